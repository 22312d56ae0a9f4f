package grants_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// TestJWTBearerDefaultNobodyPreAuthorized is docs/security.md R1 at the
// token endpoint: a client whose JWT bearer settings are absent, or name
// no pre-authorization policy, is "admin approved, nobody approved", so a
// valid assertion signed with the client's own key for an existing,
// active user answers 400 invalid_grant.
func TestJWTBearerDefaultNobodyPreAuthorized(t *testing.T) {
	f := newBearerFixture(t)
	now := time.Now()
	for _, tc := range []struct {
		id       string
		settings *storage.JWTBearerSettings
	}{
		{"no-settings", nil},
		{"no-pre-auth", &storage.JWTBearerSettings{UserField: storage.UserFieldUsername}},
	} {
		t.Run(tc.id, func(t *testing.T) {
			// f.env.Client, not f.client: keep the settings exactly as given.
			_, secret := f.env.Client(t, "acme", storage.Client{ID: tc.id, Scopes: allScopes,
				GrantTypes: []string{oauth2.GrantJWTBearer}, TokenEndpointAuthMethod: oauth2.AuthClientSecretPost, JWTBearer: tc.settings})
			f.uploadCert(t, tc.id, "k1", selfSigned(t, rsaKeyA, tc.id, 0, now.Add(-time.Hour), now.Add(24*time.Hour)))
			form := bearerForm(sign(t, jose.RS256, rsaKeyA, "k1", bearerClaims(tc.id, "alice", f.tokenURL("acme"))))
			form.Set("client_id", tc.id)
			form.Set("client_secret", secret)
			e := assertError(t, f.post(t, "acme", form, "", ""), http.StatusBadRequest, "invalid_grant")
			if e.Description != "user is not pre-authorized for this app" {
				t.Fatalf("description %q", e.Description)
			}
		})
	}
}
