package authzdetails

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// printer formats the library's validation messages.
var printer = message.NewPrinter(language.English)

// schemaURL names the one resource of each compilation; nothing else is
// ever loaded (noLoader).
const schemaURL = "urn:latchkey:authorization-detail-type"

// noLoader refuses every external reference: a schema is one
// self-contained document, so "$ref" can neither read local files nor
// reach the network (the library's default loader reads file: URLs).
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external schema reference %q is not allowed", url)
}

// CompileSchema compiles one type's JSON Schema document (draft 2020-12
// unless it names another with $schema), as saving a service does.
func CompileSchema(doc []byte) (*jsonschema.Schema, error) {
	if len(doc) == 0 {
		return nil, errors.New("the schema is required")
	}
	if len(doc) > MaxSchemaLen {
		return nil, fmt.Errorf("the schema is longer than %d bytes", MaxSchemaLen)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, errors.New("the schema is not valid JSON")
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, errors.New("the schema must be a JSON object")
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(schemaURL, v); err != nil {
		return nil, err
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, errors.New(compileMessage(err))
	}
	return sch, nil
}

// compileMessage describes a refused schema for the person who wrote it:
// a document that breaks the meta-schema is named by the JSON Pointer
// (RFC 6901) of the offending member and the rule it breaks, as in
// "the schema is invalid at /properties/x/type: value must be one of …";
// other failures (a "$ref" to elsewhere) keep the library's message.
func compileMessage(err error) string {
	var sve *jsonschema.SchemaValidationError
	var ve *jsonschema.ValidationError
	if !errors.As(err, &sve) || !errors.As(sve.Err, &ve) {
		return cleanMessage(strings.TrimPrefix(err.Error(), "failing loading "))
	}
	leaf := ve
	for len(leaf.Causes) > 0 {
		leaf = leaf.Causes[0]
	}
	msg := "does not follow the JSON Schema meta-schema"
	if leaf.ErrorKind != nil {
		msg = leaf.ErrorKind.LocalizedString(printer)
	}
	return cleanMessage(fmt.Sprintf("the schema is invalid at %s: %s", pointer(leaf.InstanceLocation), msg))
}

// pointer is the JSON Pointer of a location (RFC 6901 §3: "~" and "/"
// escaped); the whole document is "/" for people, not "".
func pointer(loc []string) string {
	if len(loc) == 0 {
		return "/"
	}
	r := strings.NewReplacer("~", "~0", "/", "~1")
	var b strings.Builder
	for _, p := range loc {
		b.WriteString("/" + r.Replace(p))
	}
	return b.String()
}

// cache holds compiled schemas by the SHA-256 of their document, so the
// authorization and token endpoints compile each version once.
var cache = struct {
	sync.Mutex
	m map[[sha256.Size]byte]*jsonschema.Schema
}{m: map[[sha256.Size]byte]*jsonschema.Schema{}}

// maxCached bounds the cache; when full it starts over.
const maxCached = 1024

func compiled(doc []byte) (*jsonschema.Schema, error) {
	key := sha256.Sum256(doc)
	cache.Lock()
	sch, ok := cache.m[key]
	cache.Unlock()
	if ok {
		return sch, nil
	}
	sch, err := CompileSchema(doc)
	if err != nil {
		return nil, err
	}
	cache.Lock()
	if len(cache.m) >= maxCached {
		clear(cache.m)
	}
	cache.m[key] = sch
	cache.Unlock()
	return sch, nil
}

// validateInstance validates one entry and describes the first failure
// for a person: the field (a JSON pointer into the entry) and the rule.
func validateInstance(sch *jsonschema.Schema, raw []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return errors.New("not valid JSON")
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return errors.New("does not match the type's schema")
	}
	leaf := ve
	for len(leaf.Causes) > 0 {
		leaf = leaf.Causes[0]
	}
	field := "/" + strings.Join(leaf.InstanceLocation, "/")
	if len(leaf.InstanceLocation) == 0 {
		field = "the object"
	} else {
		field = "field " + strings.TrimPrefix(field, "/")
	}
	msg := ""
	if leaf.ErrorKind != nil {
		msg = leaf.ErrorKind.LocalizedString(printer)
	}
	if msg == "" {
		msg = "does not match the type's schema"
	}
	return fmt.Errorf("%s: %s", field, cleanMessage(msg))
}

// cleanMessage keeps a library message to one line of bounded length.
func cleanMessage(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
