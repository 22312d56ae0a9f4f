package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// TestDCRImpersonationAttack runs docs/security.md R1 as an attacker
// would: holding an initial access token, register a client that asks for
// the JWT bearer grant with its own key, then sign an assertion whose sub
// is another user's username. Registration with an ordinary token is
// refused (400 invalid_client_metadata naming grant_types) and leaves the
// single-use token usable (R3); with a token whose policy allows
// impersonation the registration succeeds but the token endpoint refuses
// the assertion (400 invalid_grant), because nobody is pre-authorized by
// default. An admin-created client with the grant and no settings is
// refused the same way.
func TestDCRImpersonationAttack(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "default"
		lk.createService(t, ws, "api", "https://api.example", "api:read")
		lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/users",
			map[string]any{"id": "u-victim", "username": "victim"}, http.StatusCreated, nil)
		d := lk.discover(t, ws)
		tokenURL := lk.wsURL(ws) + "/oauth2/token"
		s := newJWTBearerSigner(t)
		jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &s.key.PublicKey, KeyID: "e2e", Algorithm: string(jose.RS256), Use: "sig"}}})
		if err != nil {
			t.Fatal(err)
		}
		attack := map[string]any{
			"client_name": "innocent", "grant_types": []string{jwtBearerGrant}, "scope": "api:read",
			"token_endpoint_auth_method": "private_key_jwt", "jwks": json.RawMessage(jwks),
		}
		newIAT := func(policy map[string]any) string {
			var iat struct {
				Token string `json:"token"`
			}
			body := map[string]any{"description": "attack run", "expires_in": 600, "max_uses": 1}
			if policy != nil {
				body["policy"] = policy
			}
			lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/initial-access-tokens", body, http.StatusCreated, &iat)
			lk.leaks.Add(iat.Token)
			return iat.Token
		}
		bearerGrant := func(clientID, sub string) reply {
			a := s.assertion(t, clientID, sub, tokenURL)
			lk.leaks.AddToken(a)
			r := lk.client.postForm(t, tokenURL, url.Values{"grant_type": {jwtBearerGrant}, "assertion": {a}}, basic{})
			if r.status == http.StatusOK {
				lk.leaks.AddToken(r.str("access_token"))
			}
			return r
		}

		t.Run("registration with an ordinary token is refused", func(t *testing.T) {
			tok := newIAT(nil)
			r := lk.registerJSON(t, d.RegistrationEndpoint, http.MethodPost, tok, attack)
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_client_metadata" ||
				!strings.Contains(r.str("error_description"), "grant_types") {
				t.Fatalf("want 400 invalid_client_metadata naming grant_types, got %d %s", r.status, r.raw)
			}
			// The refused registration did not spend the single use.
			ok := lk.registerJSON(t, d.RegistrationEndpoint, http.MethodPost, tok,
				map[string]any{"grant_types": []string{"client_credentials"}, "scope": "api:read"})
			if ok.status != http.StatusCreated {
				t.Fatalf("token spent by a refused registration: %d %s", ok.status, ok.raw)
			}
			lk.leaks.Add(ok.str("client_secret"))
			lk.leaks.Add(ok.str("registration_access_token"))
		})

		t.Run("with impersonation allowed nobody is pre-authorized", func(t *testing.T) {
			tok := newIAT(map[string]any{"grant_types": []string{jwtBearerGrant}, "allow_impersonation": true})
			reg := lk.registerJSON(t, d.RegistrationEndpoint, http.MethodPost, tok, attack)
			if reg.status != http.StatusCreated {
				t.Fatalf("registration: %d %s", reg.status, reg.raw)
			}
			lk.leaks.Add(reg.str("registration_access_token"))
			r := bearerGrant(reg.str("client_id"), "victim")
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" ||
				r.str("error_description") != "user is not pre-authorized for this app" {
				t.Fatalf("impersonation: want 400 invalid_grant, got %d %s", r.status, r.raw)
			}
		})

		t.Run("admin-created client defaults to admin approved", func(t *testing.T) {
			c := lk.createClient(t, ws, map[string]any{"name": "admin jb", "grant_types": []string{jwtBearerGrant},
				"scopes": []string{"api:read"}, "token_endpoint_auth_method": "private_key_jwt", "jwks": json.RawMessage(jwks)})
			r := bearerGrant(c.ClientID, "victim")
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
				t.Fatalf("default pre-authorization: want 400 invalid_grant, got %d %s", r.status, r.raw)
			}
			// Once an admin approves the user, the grant works.
			lk.adminOK(t, http.MethodPut, "/workspaces/"+ws+"/clients/"+c.ClientID+"/jwt-bearer",
				map[string]any{"pre_auth": "admin_approved", "allowed_users": []string{"u-victim"}}, http.StatusOK, nil)
			if r := bearerGrant(c.ClientID, "victim"); r.status != http.StatusOK {
				t.Fatalf("approved user: %d %s", r.status, r.raw)
			}
		})
	})
}
