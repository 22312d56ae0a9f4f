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
		return nil, errors.New(cleanMessage(err.Error()))
	}
	return sch, nil
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
