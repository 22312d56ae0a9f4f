package jwtx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// maxJSONDepth bounds nesting in headers and claim sets; real tokens nest two
// or three levels, and the size cap already bounds the total work.
const maxJSONDepth = 32

// Why CheckJSONObject refused a document. The texts go to logs (and, for
// key sets, wrapped into their own errors); objectMembers maps each to a
// public description.
var (
	errNotUTF8   = errors.New("invalid UTF-8")
	errNotObject = errors.New("not a JSON object")
	errInvalid   = errors.New("invalid JSON")
	errTrailing  = errors.New("trailing data after JSON object")
	errTooDeep   = errors.New("JSON nested too deeply")
	errDuplicate = errors.New("duplicate member")
)

// objectMembers decodes a JSON object after CheckJSONObject proved it is a
// single object with no duplicate member names at any depth. what names
// the part in the description ("header", "claim set").
func objectMembers(data []byte, what string) (map[string]json.RawMessage, error) {
	if err := CheckJSONObject(data); err != nil {
		return nil, malformed(what+" "+jsonProblem(err), "%v", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, malformed(what+" is not a JSON object", "%v", err)
	}
	return m, nil
}

// jsonProblem is the public description of a CheckJSONObject failure,
// never the decoder's own text.
func jsonProblem(err error) string {
	switch {
	case errors.Is(err, errNotUTF8):
		return "is not valid UTF-8"
	case errors.Is(err, errDuplicate):
		return "has the same member name twice"
	case errors.Is(err, errTooDeep):
		return fmt.Sprintf("is nested more than %d levels deep", maxJSONDepth)
	}
	return "is not a JSON object"
}

// CheckJSONObject reports whether data is exactly one JSON object, valid
// UTF-8, nested at most 32 deep, whose objects have no duplicate member
// names at any level.
//
// encoding/json silently keeps the last of two equal member names, so
// {"alg":"ES256","alg":"none"} would mean different things to us and to
// another parser (RFC 7515 §5.2, RFC 7519 §4, RFC 8259 §4; SECURITY.md A11).
// Invalid UTF-8 is refused for the same reason: encoding/json replaces it
// silently, another parser might not.
func CheckJSONObject(data []byte) error {
	if !utf8.Valid(data) {
		return errNotUTF8
	}
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) == 0 || data[0] != '{' {
		return errNotObject
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walkValue(dec); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errTrailing
	}
	return nil
}

// frame is one open object or array while walking the token stream.
type frame struct {
	keys    map[string]struct{} // nil for arrays
	wantKey bool
}

// walkValue consumes exactly one JSON value from dec, checking member names.
// dec.Token already enforces the JSON grammar (colons, commas, nesting), so
// inside an object a token is either a member name, a value, or the '}'.
func walkValue(dec *json.Decoder) error {
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: %w", errInvalid, err)
		}
		if top := topFrame(stack); top != nil && top.keys != nil && tok != json.Delim('}') {
			if top.wantKey {
				if err := top.addKey(tok); err != nil {
					return err
				}
				continue
			}
			top.wantKey = true // tok starts this member's value
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]struct{}{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > maxJSONDepth {
			return errTooDeep
		}
		if len(stack) == 0 {
			return nil
		}
	}
}

func topFrame(stack []*frame) *frame {
	if len(stack) == 0 {
		return nil
	}
	return stack[len(stack)-1]
}

// addKey records a member name, refusing a repeat.
func (f *frame) addKey(tok json.Token) error {
	name, ok := tok.(string)
	if !ok {
		return errInvalid
	}
	if _, dup := f.keys[name]; dup {
		return fmt.Errorf("%w %s", errDuplicate, quote(name))
	}
	f.keys[name] = struct{}{}
	f.wantKey = false
	return nil
}
