package server

import (
	"net/http"
	"strings"
)

// CORS for browser applications (public clients of application type
// "spa"), on the endpoints they call with fetch: discovery, the key set,
// the token endpoint, UserInfo and revocation (RFC 9700, "Usage of CORS":
// such endpoints "MAY support the use of" CORS, and it "MUST NOT be
// supported at the Authorization Endpoint"). Any origin may read
// their answers (Access-Control-Allow-Origin: *, never with
// credentials): none of them reads a cookie, and a browser does not send
// cookies, HTTP authentication entries or TLS client certificates on a
// cross-origin request without Access-Control-Allow-Credentials (Fetch
// standard §3.2.5), so a page on another origin can do nothing there that
// it could not do from its own server with the same parameters. The
// authorization endpoint, the sign-in, consent and console pages, which do
// use cookies, and the admin API get no CORS headers (docs/security.md
// E12).

// corsMethods lists, per endpoint path below /w/{ws}, the methods a
// preflight may ask for.
var corsMethods = map[string]string{
	"/.well-known/openid-configuration": "GET",
	"/oauth2/jwks":                      "GET",
	"/oauth2/token":                     "POST",
	"/oauth2/userinfo":                  "GET, POST",
	"/oauth2/revoke":                    "POST",
}

// corsHeaders are the request headers a browser application sends: client
// authentication and bearer tokens, the form's type, DPoP proofs.
const corsHeaders = "Authorization, Content-Type, DPoP"

// corsExposed are the response headers the application must read: the
// DPoP server nonce (RFC 9449 §8) and the authentication challenges.
const corsExposed = "DPoP-Nonce, WWW-Authenticate"

// corsAllowed returns the methods of path if it is one of the CORS
// endpoints: /w/{ws}/..., or the RFC 8414 §3.1 discovery path
// /.well-known/oauth-authorization-server/w/{ws}.
func corsAllowed(path string) (string, bool) {
	if ws, ok := strings.CutPrefix(path, "/.well-known/oauth-authorization-server/w/"); ok {
		return "GET", ws != "" && !strings.Contains(ws, "/")
	}
	rest, ok := strings.CutPrefix(path, "/w/")
	if !ok {
		return "", false
	}
	i := strings.IndexByte(rest, '/')
	if i <= 0 {
		return "", false
	}
	methods, ok := corsMethods[rest[i:]]
	return methods, ok
}

// cors adds the CORS headers to a cross-origin request (one with Origin)
// of a CORS endpoint, and answers its preflight itself (204); it reports
// whether it did.
func cors(w http.ResponseWriter, r *http.Request) (answered bool) {
	if r.Header.Get("Origin") == "" {
		return false
	}
	methods, ok := corsAllowed(r.URL.Path)
	if !ok {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", methods)
		h.Set("Access-Control-Allow-Headers", corsHeaders)
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	h.Set("Access-Control-Expose-Headers", corsExposed)
	return false
}
