package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestCORS: a browser application on another origin may call discovery,
// the key set, the token endpoint, UserInfo and revocation (preflight
// answered, Access-Control-Allow-Origin: *, never with credentials, the
// DPoP nonce readable); the authorization endpoint, the sign-in page,
// introspection and the admin API give it nothing (docs/security.md E12).
func TestCORS(t *testing.T) {
	f := newFlowFixture(t)
	base := strings.TrimSuffix(f.issuer, "/w/default")
	send := func(t *testing.T, method, url string, header map[string]string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader("grant_type=client_credentials"))
		must(t, err)
		req.Header.Set("Origin", "https://spa.example")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		return resp
	}
	preflight := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type, dpop"}
	for _, tc := range []struct {
		method, url string
		header      map[string]string
		cors        bool
		status      int
	}{
		{http.MethodOptions, f.issuer + "/oauth2/token", preflight, true, http.StatusNoContent},
		{http.MethodOptions, f.issuer + "/oauth2/userinfo", preflight, true, http.StatusNoContent},
		{http.MethodOptions, f.issuer + "/oauth2/revoke", preflight, true, http.StatusNoContent},
		{http.MethodPost, f.issuer + "/oauth2/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, true, http.StatusUnauthorized},
		{http.MethodGet, f.issuer + "/.well-known/openid-configuration", nil, true, http.StatusOK},
		{http.MethodGet, base + "/.well-known/oauth-authorization-server/w/default", nil, true, http.StatusOK},
		{http.MethodGet, f.issuer + "/oauth2/jwks", nil, true, http.StatusOK},
		{http.MethodGet, f.issuer + "/oauth2/authorize?client_id=webapp", nil, false, 0},
		{http.MethodOptions, f.issuer + "/oauth2/authorize", preflight, false, 0},
		{http.MethodGet, f.issuer + "/login", nil, false, 0},
		{http.MethodOptions, f.issuer + "/oauth2/introspect", preflight, false, 0},
		{http.MethodPost, f.issuer + "/oauth2/introspect", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, false, 0},
		{http.MethodOptions, base + "/admin/v1/workspaces", preflight, false, 0},
		{http.MethodGet, base + "/admin/v1/workspaces", nil, false, 0},
	} {
		resp := send(t, tc.method, tc.url, tc.header)
		got := resp.Header.Get("Access-Control-Allow-Origin")
		if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s %s: credentials allowed", tc.method, tc.url)
		}
		if !tc.cors {
			if got != "" {
				t.Errorf("%s %s: Access-Control-Allow-Origin %q on an endpoint without CORS", tc.method, tc.url, got)
			}
			continue
		}
		if got != "*" || resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, Access-Control-Allow-Origin %q; want %d and *", tc.method, tc.url, resp.StatusCode, got, tc.status)
		}
		if tc.method == http.MethodOptions {
			if !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "DPoP") || resp.Header.Get("Access-Control-Allow-Methods") == "" {
				t.Errorf("%s %s: preflight headers %v", tc.method, tc.url, resp.Header)
			}
		} else if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "DPoP-Nonce") {
			t.Errorf("%s %s: DPoP-Nonce not exposed", tc.method, tc.url)
		}
	}
}

// A request without Origin (a server, not a browser) gets no CORS
// headers, and only the exact endpoint paths are CORS endpoints.
func TestCORSAllowed(t *testing.T) {
	for path, want := range map[string]bool{
		"/w/acme/oauth2/token":                           true,
		"/w/acme/.well-known/openid-configuration":       true,
		"/.well-known/oauth-authorization-server/w/acme": true,
		"/.well-known/oauth-authorization-server/w/a/b":  false,
		"/w/acme/oauth2/token/x":                         false,
		"/w//oauth2/token":                               false,
		"/w/acme/oauth2/authorize":                       false,
		"/w/acme/oauth2/introspect":                      false,
		"/admin/v1/workspaces":                           false,
		"/oauth2/token":                                  false,
	} {
		if _, got := corsAllowed(path); got != want {
			t.Errorf("corsAllowed(%q) = %v, want %v", path, got, want)
		}
	}
}
