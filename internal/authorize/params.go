package authorize

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// Limits of an authorization request (SECURITY.md M1, M2, M6). FAPI 2.0
// wants state longer than 1000 characters to work and nonce up to 64;
// 4 KiB covers both.
const (
	maxBody       = 64 << 10
	maxParams     = 100
	maxValueLen   = 4 << 10
	maxTokenValue = 16 << 10 // id_token_hint, claims
)

var longParams = map[string]bool{"id_token_hint": true, "claims": true, "request": true}

// errPage is an error that must be shown on our own page: the redirect
// URI is not trustworthy yet (RFC 6749 §4.1.2.1).
type errPage struct{ e *oauth2.Error }

func (p errPage) Error() string { return p.e.Error() }

func pageError(code oauth2.ErrorCode, desc string) error {
	return errPage{oauth2.NewError(code, desc)}
}

// readParams returns the request parameters: the query of a GET, the form
// body of a POST (OIDC Core §3.1.2.1). Repeated parameters are kept so
// that validation can refuse them once the redirect URI is trusted (E7).
func readParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	raw := r.URL.RawQuery
	if r.Method == http.MethodPost {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, pageError(oauth2.ErrInvalidRequest, "the request body must be application/x-www-form-urlencoded")
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, pageError(oauth2.ErrInvalidRequest, "the request is too large")
			}
			return nil, pageError(oauth2.ErrInvalidRequest, "the request body could not be read")
		}
		raw = string(b)
	}
	if strings.Count(raw, "&")+1 > maxParams {
		return nil, pageError(oauth2.ErrInvalidRequest, "too many parameters")
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, pageError(oauth2.ErrInvalidRequest, "the request parameters are malformed")
	}
	return v, nil
}

// single returns the only value of name; ok is false when it is repeated.
func single(v url.Values, name string) (string, bool) {
	vals := v[name]
	switch len(vals) {
	case 0:
		return "", true
	case 1:
		return vals[0], true
	}
	return "", false
}

// checkParams refuses repeated and oversized parameters (RFC 6749 §3.1,
// SECURITY.md E7, M6).
func checkParams(v url.Values) error {
	for name, vals := range v {
		if len(vals) > 1 {
			return oauth2.NewError(oauth2.ErrInvalidRequest, "a parameter is included more than once")
		}
		limit := maxValueLen
		if longParams[name] {
			limit = maxTokenValue
		}
		if len(vals[0]) > limit {
			return oauth2.NewError(oauth2.ErrInvalidRequest, "a parameter is too long")
		}
	}
	return nil
}
