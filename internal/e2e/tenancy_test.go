package e2e

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// TestTenantIsolation: nothing of workspace A is visible or usable
// through workspace B (SECURITY.md J3, O1).
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		for _, ws := range []string{"tenant-a", "tenant-b"} {
			lk.createWorkspace(t, ws, "ES256")
			lk.createService(t, ws, "api", "https://api.example", "api:read")
		}
		a := lk.secretClient(t, "tenant-a", "client_secret_basic", "api:read")
		b := lk.secretClient(t, "tenant-b", "client_secret_basic", "api:read")
		tokA := lk.secretToken(t, "tenant-a", a)

		t.Run("J3 token of A introspected at B", func(t *testing.T) {
			wantActive(t, lk.introspect(t, "tenant-b", tokA, basic{b.ClientID, b.ClientSecret}), false)
			wantActive(t, lk.introspect(t, "tenant-a", tokA, basic{a.ClientID, a.ClientSecret}), true)
		})
		t.Run("J3 client of A at B's token endpoint", func(t *testing.T) {
			_, err := lk.fetchToken(t, ccConfig(lk.issuer("tenant-b")+"/oauth2/token", a, oauth2.AuthStyleInHeader, nil, nil))
			wantOAuthError(t, err, http.StatusUnauthorized, "invalid_client")
		})
		t.Run("J3 client of A at B's introspection", func(t *testing.T) {
			r := lk.client.postForm(t, lk.issuer("tenant-b")+"/oauth2/introspect", url.Values{"token": {tokA}}, basic{a.ClientID, a.ClientSecret})
			if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
				t.Fatalf("got %d %s, want 401 invalid_client", r.status, r.raw)
			}
		})
		t.Run("J3 revocation of A's token at B", func(t *testing.T) {
			lk.revoke(t, "tenant-b", tokA, basic{b.ClientID, b.ClientSecret})
			wantActive(t, lk.introspect(t, "tenant-a", tokA, basic{a.ClientID, a.ClientSecret}), true)
		})
		t.Run("O1 admin API of A's client through B", func(t *testing.T) {
			path := "/workspaces/tenant-b/clients/" + a.ClientID
			for _, req := range []struct {
				method, path string
				body         any
			}{
				{http.MethodGet, path, nil},
				{http.MethodPatch, path, map[string]any{"name": "hijacked"}},
				{http.MethodPost, path + "/disable", nil},
				{http.MethodPost, path + "/secret", nil},
				{http.MethodDelete, path, nil},
			} {
				if r := lk.adminDo(t, req.method, req.path, req.body); r.status != http.StatusNotFound {
					t.Errorf("O1: %s %s: status %d, want 404: %s", req.method, req.path, r.status, r.raw)
				}
			}
			var got clientInfo
			lk.adminOK(t, http.MethodGet, "/workspaces/tenant-a/clients/"+a.ClientID, nil, http.StatusOK, &got)
			if got.Name == "hijacked" || !got.Enabled {
				t.Fatalf("O1: A's client changed through B: %+v", got)
			}
			lk.secretToken(t, "tenant-a", a) // still works
		})
		t.Run("B4 assertion for A's issuer at B", func(t *testing.T) {
			// A private_key_jwt client of B signs an assertion whose
			// audience is A's issuer: refused at B (B4: other tenant).
			k := newECKey(t, "ec-b")
			pk := lk.createClient(t, "tenant-b", map[string]any{
				"name": "pk", "token_endpoint_auth_method": "private_key_jwt", "scopes": []string{"api:read"},
				"jwks": publicJWKS(t, k),
			})
			assertion := signAssertion(t, jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}},
				pk.ClientID, lk.issuer("tenant-a"))
			_, err := lk.fetchToken(t, assertionConfig(lk.issuer("tenant-b")+"/oauth2/token", pk.ClientID, assertion))
			wantOAuthError(t, err, http.StatusUnauthorized, "invalid_client")
		})
	})
}

// gatewayClient creates a client allowed to introspect every token of ws
// (introspect package: metadata latchkey.introspect=all), to watch tokens
// of clients that can no longer authenticate themselves.
func (lk *instance) gatewayClient(t *testing.T, ws string) basic {
	t.Helper()
	c := lk.createClient(t, ws, map[string]any{
		"name": "gateway", "token_endpoint_auth_method": "client_secret_basic",
		"metadata": map[string]string{"latchkey.introspect": "all"},
	})
	return basic{c.ClientID, c.ClientSecret}
}

// TestDeactivation: disabling a client makes its tokens inactive and its
// token requests fail (SECURITY.md O3); deleting and re-creating a client
// with the same client_id does not revive its old tokens (O2).
func TestDeactivation(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "default"
		lk.createService(t, ws, "api", "https://api.example", "api:read")
		gw := lk.gatewayClient(t, ws)

		t.Run("O3 disable", func(t *testing.T) {
			c := lk.secretClient(t, ws, "client_secret_basic", "api:read")
			tok := lk.secretToken(t, ws, c)
			wantActive(t, lk.introspect(t, ws, tok, gw), true)
			var got clientInfo
			lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/clients/"+c.ClientID+"/disable", nil, http.StatusOK, &got)
			if got.Enabled || got.ClientSecret != "" {
				t.Fatalf("disable answer: %+v (D3: no secret in it)", got)
			}
			wantActive(t, lk.introspect(t, ws, tok, gw), false)
			_, err := lk.fetchToken(t, ccConfig(lk.issuer(ws)+"/oauth2/token", c, oauth2.AuthStyleInHeader, nil, nil))
			wantOAuthError(t, err, http.StatusUnauthorized, "invalid_client")
		})
		t.Run("O2 delete and re-create", func(t *testing.T) {
			c := lk.secretClient(t, ws, "client_secret_basic", "api:read")
			old := lk.secretToken(t, ws, c)
			lk.adminOK(t, http.MethodDelete, "/workspaces/"+ws+"/clients/"+c.ClientID, nil, http.StatusNoContent, nil)
			wantActive(t, lk.introspect(t, ws, old, gw), false)
			// Re-created later (not within the second the token was
			// issued: the introspect package documents that limit).
			lk.clock.Advance(2 * time.Second)
			again := lk.createClient(t, ws, map[string]any{
				"client_id": c.ClientID, "name": "recycled", "token_endpoint_auth_method": "client_secret_basic",
				"scopes": []string{"api:read"},
			})
			if again.ClientSecret == c.ClientSecret {
				t.Fatalf("re-created client got the old secret")
			}
			wantActive(t, lk.introspect(t, ws, old, gw), false)
			wantActive(t, lk.introspect(t, ws, old, basic{again.ClientID, again.ClientSecret}), false)
			// The old secret does not authenticate the new client.
			_, err := lk.fetchToken(t, ccConfig(lk.issuer(ws)+"/oauth2/token", c, oauth2.AuthStyleInHeader, nil, nil))
			wantOAuthError(t, err, http.StatusUnauthorized, "invalid_client")
			fresh := lk.secretToken(t, ws, again)
			wantActive(t, lk.introspect(t, ws, fresh, gw), true)
		})
	})
}

// TestDynamicRegistration: an initial access token from the admin API
// registers a client at discovery's registration_endpoint (RFC 7591 §3),
// the registration access token reads it back (RFC 7592 §2.1), and the
// client gets a token with x/oauth2.
func TestDynamicRegistration(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "default"
		lk.createService(t, ws, "api", "https://api.example", "api:read", "api:write")
		d := lk.discover(t, ws)
		var iat struct {
			Token string `json:"token"`
		}
		lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/initial-access-tokens",
			map[string]any{"description": "e2e", "expires_in": 600, "max_uses": 1}, http.StatusCreated, &iat)
		lk.leaks.Add(iat.Token)
		meta := map[string]any{
			"client_name": "registered", "grant_types": []string{"client_credentials"},
			"token_endpoint_auth_method": "client_secret_post", "scope": "api:read",
		}
		reg := lk.registerJSON(t, d.RegistrationEndpoint, http.MethodPost, iat.Token, meta)
		if reg.status != http.StatusCreated {
			t.Fatalf("RFC 7591 registration: %d %s", reg.status, reg.raw)
		}
		id, secret, rat, uri := reg.str("client_id"), reg.str("client_secret"), reg.str("registration_access_token"), reg.str("registration_client_uri")
		lk.leaks.Add(secret)
		lk.leaks.Add(rat)
		if id == "" || len(secret) < 43 || rat == "" || uri != d.RegistrationEndpoint+"/"+url.PathEscape(id) {
			t.Fatalf("registration response incomplete: %s", reg.raw)
		}

		read := lk.registerJSON(t, uri, http.MethodGet, rat, nil)
		if read.status != http.StatusOK || read.str("client_id") != id || read.str("client_secret") != "" ||
			read.str("token_endpoint_auth_method") != "client_secret_post" || read.str("scope") != "api:read" {
			t.Fatalf("RFC 7592 read: %d %s", read.status, read.raw)
		}
		if r := lk.registerJSON(t, uri, http.MethodGet, "", nil); r.status != http.StatusUnauthorized {
			t.Errorf("RFC 7592 read without token: %d, want 401", r.status)
		}
		if r := lk.registerJSON(t, d.RegistrationEndpoint, http.MethodPost, iat.Token, meta); r.status != http.StatusUnauthorized {
			t.Errorf("second registration with a single-use initial access token: %d, want 401: %s", r.status, r.raw)
		}

		c := clientInfo{ClientID: id, ClientSecret: secret}
		tok := lk.mustToken(t, ccConfig(d.TokenEndpoint, c, oauth2.AuthStyleInParams, nil, nil))
		claims := verifyWithOIDC(t, d.Issuer, d.JWKSURI, tok.AccessToken, "RS256")
		if claims.ClientID != id || claims.Scope != "api:read" {
			t.Fatalf("token of the registered client: %+v", claims)
		}
	})
}

// registerJSON calls a registration endpoint with a bearer token and a
// JSON body (when non-nil).
func (lk *instance) registerJSON(t *testing.T, target, method, bearer string, body map[string]any) reply {
	t.Helper()
	var raw []byte
	if body != nil {
		raw = mustJSON(t, body)
	}
	req := newRequest(t, method, target, raw)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return lk.client.do(t, req)
}
