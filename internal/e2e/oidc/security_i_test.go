package oidc

import (
	"net/http"
	"net/url"
	"testing"
)

// TestSecurityI7: revoking a refresh token revokes its whole grant (RFC
// 7009 §2.1 SHOULD): every access token issued from the same grant, the
// one from the code exchange and the one from a refresh, introspects
// inactive afterwards, and the refresh token no longer works.
func TestSecurityI7(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	first := e.offlineTokens(t, e.client)
	second := requireTokens(t, e.refresh(t, e.client, first.RefreshToken, nil))
	for i, at := range []string{first.AccessToken, second.AccessToken} {
		if !e.introspect(t, e.client, at) {
			t.Fatalf("access token %d inactive before the revocation", i+1)
		}
	}
	rev := e.postForm(t, "/oauth2/revoke", e.client, url.Values{"token": {second.RefreshToken}, "token_type_hint": {"refresh_token"}})
	if rev.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", rev.status, rev.raw)
	}
	for i, at := range []string{first.AccessToken, second.AccessToken} {
		if e.introspect(t, e.client, at) {
			t.Errorf("I7: access token %d of the revoked grant still active", i+1)
		}
	}
	requireOAuthError(t, e.refresh(t, e.client, second.RefreshToken, nil), http.StatusBadRequest, "invalid_grant")
}
