package adminapi

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"gopkg.in/yaml.v3"

	"github.com/latchkey/latchkey/internal/declarative"
)

// Member names as the request spells them (docs/security.md M5).
// encoding/json keeps the last of two members with the same name and
// matches a name to a field case-insensitively, so a body could carry
// {"role":"workspace_viewer","Role":"super_admin"} and get a super_admin
// token while whoever reads the body (a reviewer, the audit log, a
// proxy's policy) sees a viewer. RFC 8259 §4 leaves duplicate names to the
// implementation; we refuse them as JWT members are refused (A11), and we
// refuse a name that matches a field only when case is ignored.

// checkMembers refuses a body that encoding/json already accepted into a
// dst of type t when an object in it has two members of the same name or
// a member whose name matches a field of t only case-insensitively.
func checkMembers(body []byte, t reflect.Type) error {
	msg, err := memberProblem(body, t)
	switch {
	case msg != "":
		return badRequest(msg)
	case err != nil:
		// encoding/json took what the stricter tokenizer does not
		// (checkText and checkDepth leave no such case that we know of):
		// refuse rather than apply a body the two read differently.
		return badRequest("malformed JSON")
	}
	return nil
}

// memberProblem reads the first JSON value of body once with jsontext,
// whose Decoder refuses duplicate names after unescaping ("r\u006fle" is
// "role"), and walks it beside the Go type t. It returns the description
// of the first duplicate or case-only match, or else the tokenizer's error
// when body does not start with a JSON value. The cost is linear in the
// body: one pass, and one map look-up per member.
func memberProblem(body []byte, t reflect.Type) (string, error) {
	w := memberWalk{dec: jsontext.NewDecoder(bytes.NewReader(body))}
	err := w.value(t)
	var ce *caseError
	switch {
	case err == nil:
		return "", nil
	case errors.As(err, &ce):
		return fmt.Sprintf("unknown field %s (member names are case-sensitive; did you mean %s?)",
			quoteMember(w.pathTo(ce.name)), quoteMember(ce.field)), nil
	case errors.Is(err, jsontext.ErrDuplicateName):
		var se *jsontext.SyntacticError
		if errors.As(err, &se) {
			return fmt.Sprintf("duplicate member %s in the request body", quoteMember(w.pathTo(se.JSONPointer.LastToken()))), nil
		}
	}
	return "", err
}

// caseError is a member name that matches field only case-insensitively.
type caseError struct{ name, field string }

func (e *caseError) Error() string { return "case-insensitive match of " + e.field }

// memberWalk is one pass over a JSON value; path holds the member names
// from the top down to the object being read (array indexes left out, as
// in the paths of jsonErrorMessage).
type memberWalk struct {
	dec  *jsontext.Decoder
	path []string
}

// pathTo is the dotted path of member name of the current object.
func (w *memberWalk) pathTo(name string) string {
	return strings.Join(append(slices.Clip(w.path), name), ".")
}

// value reads one value bound for a Go value of type t (nil: no type
// whose field names matter). Objects and arrays of any type are read
// token by token so that the decoder checks every object for duplicates.
func (w *memberWalk) value(t reflect.Type) error {
	t = memberTarget(t)
	switch w.dec.PeekKind() {
	case '{':
		return w.object(t)
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		return w.array(elem)
	}
	_, err := w.dec.ReadToken()
	return err
}

func (w *memberWalk) object(t reflect.Type) error {
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	for w.dec.PeekKind() != '}' {
		tok, err := w.dec.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String()
		ft, err := memberType(t, name)
		if err != nil {
			return err
		}
		w.path = append(w.path, name)
		if err := w.value(ft); err != nil {
			return err
		}
		w.path = w.path[:len(w.path)-1]
	}
	_, err := w.dec.ReadToken()
	return err
}

func (w *memberWalk) array(elem reflect.Type) error {
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	for w.dec.PeekKind() != ']' {
		if err := w.value(elem); err != nil {
			return err
		}
	}
	_, err := w.dec.ReadToken()
	return err
}

// memberType is the type of the value of member name in an object bound
// for t: a map's element (its keys are data, never field names), the
// field that encoding/json matches exactly, or nil when t is not a struct
// or has no such field (DisallowUnknownFields answers that). A match that
// holds only when case is ignored is a caseError.
func memberType(t reflect.Type, name string) (reflect.Type, error) {
	switch {
	case t == nil:
		return nil, nil
	case t.Kind() == reflect.Map:
		return t.Elem(), nil
	case t.Kind() != reflect.Struct:
		return nil, nil
	}
	fs := structMembers(t)
	if ft, ok := fs.exact[name]; ok {
		return ft, nil
	}
	if field, ok := fs.folded[foldName(name)]; ok {
		return nil, &caseError{name: name, field: field}
	}
	return nil, nil
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// memberTarget is t with pointers followed, or nil when encoding/json
// does not decode members into fields of it: a type with its own
// UnmarshalJSON (json.RawMessage among them) or UnmarshalText, an
// interface, or a scalar.
func memberTarget(t reflect.Type) reflect.Type {
	for t != nil {
		if t.Implements(jsonUnmarshalerType) || t.Implements(textUnmarshalerType) ||
			reflect.PointerTo(t).Implements(jsonUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
			return nil
		}
		switch t.Kind() {
		case reflect.Pointer:
			t = t.Elem()
		case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
			return t
		default:
			return nil
		}
	}
	return nil
}

// members are the JSON names of a struct's fields as encoding/json
// decodes them: exact maps a name to its field's type, folded maps the
// folded name to the first field (in field order) it would match.
type members struct {
	exact  map[string]reflect.Type
	folded map[string]string
}

var membersCache sync.Map // reflect.Type → *members

func structMembers(t reflect.Type) *members {
	if m, ok := membersCache.Load(t); ok {
		return m.(*members)
	}
	fields := structFields(t)
	m := &members{exact: make(map[string]reflect.Type, len(fields)), folded: make(map[string]string, len(fields))}
	for _, f := range fields {
		m.exact[f.name] = f.typ
		if k := foldName(f.name); m.folded[k] == "" {
			m.folded[k] = f.name
		}
	}
	v, _ := membersCache.LoadOrStore(t, m)
	return v.(*members)
}

// structField is a struct field as encoding/json names it.
type structField struct {
	name   string
	tagged bool
	index  []int
	typ    reflect.Type
}

// structFields lists the fields of struct t the way encoding/json's
// typeFields does: breadth first through embedded structs, json:"-"
// skipped, a tag's name before its options, unexported fields left out
// but unexported embedded structs explored, and of several fields with
// one name only the dominant one kept (the shallowest, a tagged one
// winning a tie; none when the tie stays).
func structFields(t reflect.Type) []structField {
	var fields []structField
	next := []structField{{typ: t}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	for len(next) > 0 {
		current := next
		next = nil
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, f := range current {
			if visited[f.typ] {
				continue
			}
			visited[f.typ] = true
			for i := range f.typ.NumField() {
				sf := f.typ.Field(i)
				name, ok := fieldName(sf)
				if !ok {
					continue
				}
				index := append(slices.Clip(f.index), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					field := structField{name: name, tagged: name != "", index: index, typ: sf.Type}
					if name == "" {
						field.name = sf.Name
					}
					fields = append(fields, field)
					if count[f.typ] > 1 {
						// Two embeddings of one type at this depth: a
						// second copy makes the tie that drops the name.
						fields = append(fields, field)
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, structField{index: index, typ: ft})
				}
			}
		}
	}
	return dominantFields(fields)
}

// fieldName is the tag name of sf ("" when the tag names none or an
// invalid one) and whether encoding/json considers sf at all.
func fieldName(sf reflect.StructField) (string, bool) {
	if sf.Anonymous {
		t := sf.Type
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if !sf.IsExported() && t.Kind() != reflect.Struct {
			return "", false
		}
	} else if !sf.IsExported() {
		return "", false
	}
	tag := sf.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if !validTagName(name) {
		name = ""
	}
	return name, true
}

// validTagName is encoding/json's isValidTag.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// dominantFields keeps, of the fields sharing a name, the one that Go's
// embedding rules (with tagged fields promoted) make visible, and returns
// them in field order.
func dominantFields(fields []structField) []structField {
	slices.SortFunc(fields, func(a, b structField) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := len(a.index) - len(b.index); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	var out []structField
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		if j-i == 1 || len(fields[i].index) != len(fields[i+1].index) || fields[i].tagged != fields[i+1].tagged {
			out = append(out, fields[i])
		}
		i = j
	}
	slices.SortFunc(out, func(a, b structField) int { return slices.Compare(a.index, b.index) })
	return out
}

// foldName is encoding/json's foldName: two names fold to the same string
// exactly when bytes.EqualFold holds.
func foldName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			continue
		}
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// foldRune is the smallest rune of r's fold set.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// quoteMember quotes a member path for a message, cut to 64 bytes.
func quoteMember(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return fmt.Sprintf("%q", s)
}

var documentType = reflect.TypeFor[declarative.Document]()

// parseDocument is declarative.Parse with the member rules of decodeJSON
// for the document's own members (apiVersion, kind, the collections,
// items): a JSON body is walked as the JSON routes walk theirs, and since
// declarative.Parse gives the YAML form (JSON is YAML too) to
// encoding/json as well, the YAML form is checked for case-only matches
// after it parsed; it refuses duplicate keys itself. The resources in the
// collections are maps here and reach their route's decodeJSON in
// process, which checks them.
func parseDocument(body []byte) (*declarative.Document, error) {
	if msg, _ := memberProblem(body, documentType); msg != "" {
		return nil, badRequest(msg)
	}
	doc, err := declarative.Parse(body)
	if err != nil {
		return nil, badRequest(err.Error())
	}
	var raw any
	if yaml.Unmarshal(body, &raw) == nil {
		if js, err := json.Marshal(raw); err == nil {
			if msg, _ := memberProblem(js, documentType); msg != "" {
				return nil, badRequest(msg)
			}
		}
	}
	return doc, nil
}
