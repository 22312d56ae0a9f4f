package oidc

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestOpaqueAccessTokensCodeFlow: a code-flow client with opaque access
// tokens gets reference tokens that UserInfo and introspection accept,
// from the code exchange and from refresh; its access and ID token
// lifetimes are its own (expires_in, the ID token's exp); revoking the
// access token ends it at once at UserInfo and introspection, and another
// client may not revoke it (docs/security.md I6).
func TestOpaqueAccessTokensCodeFlow(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, e *env) {
		c := e.createClient(t, testWS, clientSpec{ID: "opaque", RedirectURIs: []string{rpRedirect}, Extra: map[string]any{
			"access_token_format": "opaque", "access_token_ttl": 600, "id_token_ttl": 120,
			"refresh_tokens": map[string]any{"always": true},
		}})
		tk, it, _ := e.fullFlow(t, c)
		requireOpaque(t, tk.AccessToken)
		if tk.ExpiresIn != 600 {
			t.Errorf("expires_in = %v, want the client's 600", tk.ExpiresIn)
		}
		if d := it.IDToken.Expiry.Sub(it.IDToken.IssuedAt); d != 120*time.Second {
			t.Errorf("ID token exp-iat = %v, want the client's 2m0s", d)
		}
		ui := e.userinfo(t, http.MethodGet, tk.AccessToken, false)
		if ui.status != http.StatusOK || ui.str("sub") != it.Subject {
			t.Fatalf("UserInfo with an opaque token: %d %s, want 200 sub %s", ui.status, ui.raw, it.Subject)
		}
		if !e.introspect(t, c, tk.AccessToken) {
			t.Fatal("opaque code-flow token inactive at introspection")
		}

		rt := requireTokens(t, e.refresh(t, c, tk.RefreshToken, nil))
		requireOpaque(t, rt.AccessToken)
		if rt.ExpiresIn != 600 {
			t.Errorf("refresh expires_in = %v, want 600", rt.ExpiresIn)
		}
		if r := e.userinfo(t, http.MethodGet, rt.AccessToken, false); r.status != http.StatusOK {
			t.Fatalf("UserInfo with the refreshed opaque token: %d %s", r.status, r.raw)
		}

		r := e.postForm(t, "/oauth2/revoke", e.client2, url.Values{"token": {rt.AccessToken}})
		requireOAuthError(t, r, http.StatusBadRequest, "unauthorized_client")
		if r := e.postForm(t, "/oauth2/revoke", c, url.Values{"token": {rt.AccessToken}}); r.status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.status, r.raw)
		}
		if e.introspect(t, c, rt.AccessToken) {
			t.Error("revoked opaque token still active")
		}
		if r := e.userinfo(t, http.MethodGet, rt.AccessToken, false); r.status != http.StatusUnauthorized {
			t.Errorf("UserInfo with a revoked opaque token: %d, want 401", r.status)
		}
	})
}

func requireOpaque(t *testing.T, at string) {
	t.Helper()
	if !strings.HasPrefix(at, "lkat_") || strings.Contains(at, ".") {
		t.Fatalf("access token %q is not an opaque lkat_ token", at)
	}
}
