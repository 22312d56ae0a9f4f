package authorize

import (
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
)

// errPage is an error that must be shown on our own page: the redirect
// URI is not trustworthy yet (RFC 6749 §4.1.2.1).
type errPage struct{ e *oauth2.Error }

func (p errPage) Error() string { return p.e.Error() }

func pageError(code oauth2.ErrorCode, desc string) error {
	return errPage{oauth2.NewError(code, desc)}
}

// readParams returns the request parameters: the query of a GET, the form
// body of a POST (OIDC Core §3.1.2.1), within endpoint.AuthorizationForm.
// Repeated and oversized parameters are kept so that validation can refuse
// them once the redirect URI is trusted (E7); until then every error is
// shown on our page.
func readParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	v, err := endpoint.ParseForm(w, r, endpoint.AuthorizationForm)
	if err != nil {
		return nil, errPage{oauth2.AsError(err)}
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
func checkParams(v url.Values) error { return endpoint.AuthorizationForm.CheckParams(v) }
