package endpoint

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// FormOptions are one endpoint's limits on its form parameters
// (SECURITY.md M1, M2, M6).
type FormOptions struct {
	// MaxBody caps the request body (M1).
	MaxBody int64
	// MaxParams caps the number of parameters (M2).
	MaxParams int
	// MaxNameLen caps a parameter name; 0 leaves names bounded by the
	// body only.
	MaxNameLen int
	// MaxValueLen caps a parameter value without an entry in ValueLimits.
	MaxValueLen int
	// ValueLimits are per-parameter caps that replace MaxValueLen.
	ValueLimits map[string]int
	// Repeatable lists the only parameters that may appear more than once.
	Repeatable map[string]bool
	// QueryOnGet reads a GET request's parameters from its query string
	// (the authorization endpoint, RFC 6749 §3.1). Otherwise only a POSTed
	// form body is read, and client credentials in the query string are
	// refused (RFC 6749 §2.3.1; SECURITY.md D4).
	QueryOnGet bool
	// DeferChecks leaves repeated and oversized parameters in the result
	// for the caller to refuse with CheckParams once it can answer in the
	// right place (the authorization endpoint redirects such errors to a
	// trusted redirect URI, SECURITY.md E7).
	DeferChecks bool
}

// TokenForm are the limits of the token, introspection and revocation
// endpoints. MaxValueLen matches the largest JWT parsed
// (jwtx.DefaultMaxSize), so a client_assertion or a token to introspect
// always fits; RFC 8707 §2 lets "resource" repeat, and RFC 6749 §3.2
// forbids repeating any other parameter ("Request and response parameters
// MUST NOT be included more than once").
var TokenForm = FormOptions{
	MaxBody:     64 << 10,
	MaxParams:   100,
	MaxNameLen:  128,
	MaxValueLen: 16 << 10,
	ValueLimits: map[string]int{
		"grant_type":            256,
		"scope":                 4 << 10,
		"resource":              2 << 10,
		"client_id":             1 << 10,
		"client_secret":         1 << 10,
		"client_assertion_type": 256,
		"token_type_hint":       64,
	},
	// RFC 8693 §2.1 lets "audience" repeat too (token exchange).
	Repeatable: map[string]bool{"resource": true, "audience": true},
}

// AuthorizationForm are the limits of the authorization endpoint. FAPI
// 2.0 wants state longer than 1000 characters to work and nonce up to 64;
// 4 KiB covers both, and the parameters that carry JWTs or JSON get the
// JWT cap. Repeats are refused by CheckParams (E7).
var AuthorizationForm = FormOptions{
	MaxBody:     64 << 10,
	MaxParams:   100,
	MaxValueLen: 4 << 10,
	ValueLimits: map[string]int{"id_token_hint": 16 << 10, "claims": 16 << 10, "request": 16 << 10, "resource": 2 << 10,
		"authorization_details": 16 << 10}, // RFC 9396 §2
	QueryOnGet:  true,
	DeferChecks: true,
	// RFC 8707 §2: "resource" may repeat in authorization requests too.
	Repeatable: map[string]bool{"resource": true},
}

// formContentType is the one body format of form endpoints (SECURITY.md
// Q2; RFC 6749 §3.2 "using the application/x-www-form-urlencoded format").
const formContentType = "application/x-www-form-urlencoded"

// queryCredentials are parameters that must never be sent in the URL
// (RFC 6749 §2.3.1: credentials only in the body; SECURITY.md D4).
var queryCredentials = []string{"client_secret", "client_assertion"}

// ParseForm reads the parameters of r within opts. Outside QueryOnGet the
// query string is never merged in: credentials sent there are refused,
// everything else in it is ignored. Errors are *oauth2.Error
// (invalid_request; 413 when the body is too large).
func ParseForm(w http.ResponseWriter, r *http.Request, opts FormOptions) (url.Values, error) {
	raw, source, err := readParams(w, r, opts)
	if err != nil {
		return nil, err
	}
	form, err := opts.parse(raw, source)
	if err != nil {
		return nil, err
	}
	if !opts.DeferChecks {
		if err := opts.CheckParams(form); err != nil {
			return nil, err
		}
	}
	return form, nil
}

// readParams returns the raw parameters of r and where they came from.
func readParams(w http.ResponseWriter, r *http.Request, opts FormOptions) (raw, source string, err error) {
	if opts.QueryOnGet && r.Method == http.MethodGet {
		return r.URL.RawQuery, "query string", nil
	}
	if err := checkContentEncoding(w, r.Header.Values("Content-Encoding")); err != nil {
		return "", "", err
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return "", "", err
	}
	if !opts.QueryOnGet {
		if err := checkQuery(r.URL.RawQuery); err != nil {
			return "", "", err
		}
	}
	body, err := readBody(w, r, opts.MaxBody)
	return body, "form body", err
}

func checkContentType(ct string) error {
	if ct == formContentType {
		return nil // what every client sends; ParseMediaType would accept it as is
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != formContentType {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "Content-Type must be "+formContentType)
	}
	return nil
}

// checkContentEncoding refuses a compressed body before it is read. The
// form endpoints read the body as application/x-www-form-urlencoded text
// (RFC 6749 §3.2), and a body whose Content-Encoding names a coding
// (RFC 9110 §8.4: gzip, deflate, br, ...) would otherwise be parsed as
// form text and answered with a confusing "grant_type is required".
// "identity" (no coding, RFC 9110 §12.5.3) and empty members of the list
// are accepted. The answer is the OAuth invalid_request of every malformed
// request (RFC 6749 §5.2) rather than RFC 9110 §15.5.16's 415, with
// Accept-Encoding: identity saying which coding would have been accepted
// (RFC 9110 §12.5.3).
func checkContentEncoding(w http.ResponseWriter, values []string) error {
	for _, v := range values {
		for coding := range strings.SplitSeq(v, ",") {
			coding = strings.TrimSpace(coding)
			if coding == "" || strings.EqualFold(coding, "identity") {
				continue
			}
			w.Header().Set("Accept-Encoding", "identity")
			return oauth2.NewError(oauth2.ErrInvalidRequest,
				"the request body must not be compressed (Content-Encoding "+Describable(coding)+" is not supported)")
		}
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

func readBody(w http.ResponseWriter, r *http.Request, limit int64) (string, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return "", oauth2.NewError(oauth2.ErrInvalidRequest, "request body too large").WithStatus(http.StatusRequestEntityTooLarge)
		}
		return "", oauth2.Wrap(oauth2.ErrInvalidRequest, "could not read the request body", err)
	}
	return string(b), nil
}

// parse counts parameters before parsing so that a body of 60 000 "&"
// never allocates 60 000 map entries (SECURITY.md M2).
func (o FormOptions) parse(raw, source string) (url.Values, error) {
	if raw != "" && strings.Count(raw, "&")+1 > o.MaxParams {
		return nil, oauth2.NewError(oauth2.ErrInvalidRequest, "too many parameters")
	}
	form, err := url.ParseQuery(raw)
	if err != nil {
		return nil, oauth2.Wrap(oauth2.ErrInvalidRequest, "malformed "+source, err)
	}
	return form, nil
}

// CheckParams refuses parameters that are repeated without being
// Repeatable, and names and values over their caps.
func (o FormOptions) CheckParams(form url.Values) error {
	for name, values := range form {
		if err := o.checkParam(name, values); err != nil {
			return err
		}
	}
	return nil
}

func (o FormOptions) checkParam(name string, values []string) error {
	if o.MaxNameLen > 0 && len(name) > o.MaxNameLen {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "parameter name too long")
	}
	if len(values) > 1 && !o.Repeatable[name] {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "parameter "+Describable(name)+" is included more than once")
	}
	limit, ok := o.ValueLimits[name]
	if !ok {
		limit = o.MaxValueLen
	}
	for _, v := range values {
		if len(v) > limit {
			return oauth2.NewError(oauth2.ErrInvalidRequest, "parameter "+Describable(name)+" is too long")
		}
	}
	return nil
}

// Describable returns s in single quotes when it may be echoed in
// error_description, whose characters RFC 6749 §5.2 restricts to
// %x20-21 / %x23-5B / %x5D-7E (so no double quote and no backslash), and a
// neutral placeholder otherwise. Attacker input is never echoed verbatim
// beyond that set or beyond 200 bytes.
func Describable(s string) string {
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
