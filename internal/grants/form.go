package grants

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// Limits on the form body of the token, introspection and revocation
// endpoints (SECURITY.md M1, M2, M6).
const (
	// MaxBodyBytes caps the request body (M1).
	MaxBodyBytes = 64 << 10
	// MaxParams caps the number of form parameters (M2).
	MaxParams = 100
	// MaxNameLen caps a parameter name.
	MaxNameLen = 128
	// DefaultMaxValueLen caps a parameter value without a specific limit.
	// It matches the largest JWT we parse (jwtx.DefaultMaxSize), so a
	// client_assertion or a token to introspect always fits.
	DefaultMaxValueLen = 16 << 10
)

// valueLimits are the per-parameter caps tighter than DefaultMaxValueLen.
var valueLimits = map[string]int{
	"grant_type":            256,
	"scope":                 4 << 10,
	"resource":              2 << 10,
	"client_id":             1 << 10,
	"client_secret":         1 << 10,
	"client_assertion_type": 256,
	"token_type_hint":       64,
}

// repeatable lists the only parameters that may appear more than once:
// RFC 8707 §2 lets "resource" repeat; RFC 6749 §3.2 forbids repeating any
// other ("Request and response parameters MUST NOT be included more than
// once").
var repeatable = map[string]bool{"resource": true}

// queryCredentials are parameters that must never be sent in the URL
// (RFC 6749 §2.3.1: credentials only in the body; SECURITY.md D4).
var queryCredentials = []string{"client_secret", "client_assertion"}

// ParseForm reads the application/x-www-form-urlencoded body of r, enforcing
// the request hygiene every POST endpoint shares. The query string is never
// merged in: credentials sent there are rejected, everything else in it is
// ignored. Errors are *oauth2.Error (invalid_request; 413 when the body is
// too large).
func ParseForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	if err := checkQuery(r.URL.RawQuery); err != nil {
		return nil, err
	}
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return parseBody(body)
}

// checkContentType requires a form body (SECURITY.md Q2; RFC 6749 §3.2
// "using the application/x-www-form-urlencoded format").
func checkContentType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "Content-Type must be application/x-www-form-urlencoded")
	}
	return nil
}

func checkQuery(rawQuery string) error {
	if rawQuery == "" {
		return nil
	}
	// ParseQuery returns what it could parse even on error: a malformed
	// query is otherwise ignored like any other query parameter.
	q, _ := url.ParseQuery(rawQuery)
	for _, name := range queryCredentials {
		if _, ok := q[name]; ok {
			return oauth2.NewError(oauth2.ErrInvalidRequest, "client credentials must not be sent in the query string")
		}
	}
	return nil
}

func readBody(w http.ResponseWriter, r *http.Request) (string, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return "", oauth2.NewError(oauth2.ErrInvalidRequest, "request body too large").WithStatus(http.StatusRequestEntityTooLarge)
		}
		return "", oauth2.Wrap(oauth2.ErrInvalidRequest, "could not read the request body", err)
	}
	return string(b), nil
}

// parseBody counts parameters before parsing so that a body of 60 000
// "&" never allocates 60 000 map entries (SECURITY.md M2).
func parseBody(body string) (url.Values, error) {
	if body != "" && strings.Count(body, "&")+1 > MaxParams {
		return nil, oauth2.NewError(oauth2.ErrInvalidRequest, "too many parameters")
	}
	form, err := url.ParseQuery(body)
	if err != nil {
		return nil, oauth2.Wrap(oauth2.ErrInvalidRequest, "malformed form body", err)
	}
	for name, values := range form {
		if err := checkParam(name, values); err != nil {
			return nil, err
		}
	}
	return form, nil
}

func checkParam(name string, values []string) error {
	if len(name) > MaxNameLen {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "parameter name too long")
	}
	if len(values) > 1 && !repeatable[name] {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "parameter "+describable(name)+" is included more than once")
	}
	limit, ok := valueLimits[name]
	if !ok {
		limit = DefaultMaxValueLen
	}
	for _, v := range values {
		if len(v) > limit {
			return oauth2.NewError(oauth2.ErrInvalidRequest, "parameter "+describable(name)+" is too long")
		}
	}
	return nil
}

// describable returns s in single quotes when it may be echoed in
// error_description, whose characters RFC 6749 §5.2 restricts to
// %x20-21 / %x23-5B / %x5D-7E (so no double quote and no backslash), and a
// neutral placeholder otherwise. Attacker input is never echoed verbatim
// beyond that set or beyond 200 bytes.
func describable(s string) string {
	if len(s) == 0 || len(s) > 200 {
		return "(unprintable)"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return "(unprintable)"
		}
	}
	return "'" + s + "'"
}
