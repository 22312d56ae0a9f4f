package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Request limits (SECURITY.md M5).
const (
	maxBodyBytes = 1 << 20
	maxJSONDepth = 32
)

// decodeJSON reads one JSON object from the request body into dst with
// strict rules: size cap, depth cap, unknown fields rejected, nothing after
// the value, no duplicate member names and no member name that matches a
// field only when case is ignored (docs/security.md M5). An empty body is
// allowed when allowEmpty is set.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any, allowEmpty bool) error {
	if err := checkContentType(r); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return err // *http.MaxBytesError → 413; others → 500
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return badRequest("request body must be a JSON object")
	}
	if err := checkDepth(body, maxJSONDepth); err != nil {
		return err
	}
	if err := checkText(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return badRequest(jsonErrorMessage(err, reflect.TypeOf(dst)))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("request body must contain a single JSON object")
	}
	// encoding/json took it; now refuse what it read leniently: a
	// duplicate member or a case-only field match (decode_members.go).
	return checkMembers(body, reflect.TypeOf(dst))
}

func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return &httpError{status: http.StatusUnsupportedMediaType, code: codeUnsupported, desc: "Content-Type must be application/json"}
	}
	return nil
}

// checkDepth rejects JSON nested deeper than max before the decoder sees
// it, so a 10 000-deep document costs one linear scan (SECURITY.md M5).
func checkDepth(body []byte, max int) error {
	depth, inString, escaped := 0, false, false
	for _, b := range body {
		switch {
		case escaped:
			escaped = false
		case inString && b == '\\':
			escaped = true
		case b == '"':
			inString = !inString
		case inString:
		case b == '{' || b == '[':
			depth++
			if depth > max {
				return badRequest(fmt.Sprintf("request body is nested deeper than %d levels", max))
			}
		case b == '}' || b == ']':
			depth--
		}
	}
	return nil
}

// checkText refuses a body that encoding/json would silently change:
// bytes that are not UTF-8 and escaped lone surrogates both decode to
// U+FFFD, and an escaped NUL decodes to a character no field may hold
// (docs/security.md R4). RFC 8259 §8.1 requires UTF-8.
func checkText(body []byte) error {
	if !utf8.Valid(body) {
		return badRequest("request body is not valid UTF-8")
	}
	inString := false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '"':
			inString = !inString
		case inString && c == '\\':
			msg, width := escapeProblem(body, i)
			if msg != "" {
				return badRequest(msg)
			}
			i += width - 1 // skip the rest of the escape
		}
	}
	return nil
}

// escapeProblem checks the escape at body[i:] (body[i] is a backslash)
// and returns what is wrong with it and its length in bytes: NUL is
// refused, and a UTF-16 surrogate must be a high one followed by an
// escaped low one (RFC 8259 §7).
func escapeProblem(body []byte, i int) (string, int) {
	const lone = "request body contains a lone UTF-16 surrogate escape"
	r, ok := hexEscape(body, i)
	switch {
	case !ok:
		return "", 2 // \n, \" and the like; malformed ones the decoder reports
	case r == 0:
		return `request body contains an escaped NUL character (\u0000)`, 6
	case r >= 0xDC00 && r <= 0xDFFF:
		return lone, 6
	case r >= 0xD800 && r <= 0xDBFF:
		if low, ok := hexEscape(body, i+6); !ok || low < 0xDC00 || low > 0xDFFF {
			return lone, 6
		}
		return "", 12
	}
	return "", 6
}

// hexEscape reads the \uXXXX escape at body[i:].
func hexEscape(body []byte, i int) (rune, bool) {
	if i+6 > len(body) || body[i] != '\\' || body[i+1] != 'u' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(body[i+2:i+6]), 16, 16)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}

// jsonErrorMessage describes a decoding error of a dst in terms of the
// request, without Go type names.
func jsonErrorMessage(err error, dst reflect.Type) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field == "" {
			return "request body must be a JSON object"
		}
		return fmt.Sprintf("%s: must be %s", jsonPath(te.Field, dst), jsonKind(te.Type.Kind().String()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: unexpected end of input"
	}
	if name, ok := unknownField(err); ok {
		return fmt.Sprintf("unknown field '%s': the request may only carry the documented members", name)
	}
	return "malformed JSON"
}

// unknownField extracts the member name of encoding/json's unknown-field
// error, so the answer is our own sentence rather than the decoder's text.
func unknownField(err error) (string, bool) {
	rest, ok := strings.CutPrefix(err.Error(), `json: unknown field `)
	if !ok {
		return "", false
	}
	name, uerr := strconv.Unquote(rest)
	if uerr != nil || len(name) > 64 {
		return "", false
	}
	return name, true
}

// jsonPath is the path of a decoding error as the request spells it.
// encoding/json puts the Go name of an embedded struct before a promoted
// member ("ClientFlow.trusted"); the document has no such level.
func jsonPath(field string, dst reflect.Type) string {
	embedded := map[string]bool{}
	embeddedNames(dst, embedded, map[reflect.Type]bool{})
	parts := strings.Split(field, ".")
	kept := parts[:0]
	for _, p := range parts {
		if !embedded[p] {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ".")
}

// embeddedNames adds to names the structs embedded anywhere in t.
func embeddedNames(t reflect.Type, names map[string]bool, seen map[reflect.Type]bool) {
	if seen[t] {
		return
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		embeddedNames(t.Elem(), names, seen)
	case reflect.Struct:
		for f := range t.Fields() {
			if f.Anonymous {
				names[f.Name] = true
			}
			embeddedNames(f.Type, names, seen)
		}
	}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "an integer"
	}
	return "of another type"
}
