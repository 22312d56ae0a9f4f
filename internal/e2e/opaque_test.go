package e2e

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestOpaqueAccessTokens: a client set to access_token_format opaque gets
// reference tokens from client_credentials (x/oauth2) that are not JWTs,
// whose introspection carries exactly the claims the same client's JWT
// tokens carry (modulo jti, iat and exp), whose lifetime is the client's,
// and whose revocation by their client is immediate; another client's
// revocation is refused (docs/security.md I6).
func TestOpaqueAccessTokens(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "default"
		lk.createService(t, ws, "api", "https://api.example", "api:read")
		c := lk.createClient(t, ws, map[string]any{
			"name": "opaque", "grant_types": []string{"client_credentials"}, "scopes": []string{"api:read"},
			"token_endpoint_auth_method": "client_secret_basic", "access_token_ttl": 600,
		})
		other := lk.secretClient(t, ws, "client_secret_basic", "api:read")
		cred := basic{c.ClientID, c.ClientSecret}
		cfg := ccConfig(lk.wsURL(ws)+"/oauth2/token", c, oauth2.AuthStyleInHeader, []string{"api:read"}, nil)

		jwt := lk.mustToken(t, cfg)
		if strings.Count(jwt.AccessToken, ".") != 2 {
			t.Fatalf("default format is not a JWT: %q", jwt.AccessToken)
		}
		golden := lk.introspect(t, ws, jwt.AccessToken, cred)
		wantActive(t, golden, true)

		lk.adminOK(t, http.MethodPatch, "/workspaces/"+ws+"/clients/"+c.ClientID,
			map[string]any{"access_token_format": "opaque"}, http.StatusOK, nil)
		tok := eventually(t, func() (string, bool) {
			tok := lk.mustToken(t, cfg)
			return tok.AccessToken, strings.HasPrefix(tok.AccessToken, "lkat_")
		})
		if strings.Contains(tok, ".") || len(tok) < len("lkat_")+43 {
			t.Fatalf("opaque token %q: want lkat_ and 256 random bits, no JWT", tok)
		}
		got := lk.introspect(t, ws, tok, cred)
		wantActive(t, got, true)
		for _, r := range []reply{golden, got} {
			exp, iat := r.json["exp"].(float64), r.json["iat"].(float64)
			if exp-iat != 600 {
				t.Errorf("exp-iat = %v, want the client's 600 s: %s", exp-iat, r.raw)
			}
		}
		if got.json["jti"] == "" || got.json["jti"] == golden.json["jti"] {
			t.Errorf("opaque token jti %v", got.json["jti"])
		}
		if !reflect.DeepEqual(withoutTimes(golden.json), withoutTimes(got.json)) {
			t.Fatalf("opaque introspection differs from the JWT's:\n got  %s\n want %s", got.raw, golden.raw)
		}

		raw := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, cred)
		lk.leaks.AddToken(raw.str("access_token"))
		if raw.status != http.StatusOK || raw.json["expires_in"] != float64(600) || !strings.HasPrefix(raw.str("access_token"), "lkat_") {
			t.Errorf("token response %d %s, want an opaque token with expires_in 600", raw.status, raw.raw)
		}

		// I6: another client's revocation is refused, the token stays active.
		r := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/revoke", url.Values{"token": {tok}}, basic{other.ClientID, other.ClientSecret})
		if r.status != http.StatusBadRequest || r.str("error") != "unauthorized_client" {
			t.Fatalf("revocation by another client: %d %s, want 400 unauthorized_client", r.status, r.raw)
		}
		wantActive(t, lk.introspect(t, ws, tok, cred), true)
		lk.revoke(t, ws, tok, cred)
		wantActive(t, lk.introspect(t, ws, tok, cred), false)
		lk.revoke(t, ws, tok, cred) // RFC 7009 §2.2: revoking again is fine
		// An unknown value of the opaque form is simply inactive.
		wantActive(t, lk.introspect(t, ws, "lkat_"+strings.Repeat("A", 43), cred), false)
	})
}

// withoutTimes drops the members that differ between any two tokens.
func withoutTimes(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		switch k {
		case "jti", "iat", "exp":
		default:
			out[k] = v
		}
	}
	return out
}

// opaqueAcrossProcesses: an opaque token issued by process a is resolved
// and revoked at b, and is inactive at a at once (no cache of token rows).
func opaqueAcrossProcesses(t *testing.T, a, b *instance, ws string) {
	c := a.createClient(t, ws, map[string]any{
		"name": "opaque-mp", "grant_types": []string{"client_credentials"}, "scopes": []string{"api:read"},
		"token_endpoint_auth_method": "client_secret_basic", "access_token_format": "opaque",
	})
	cred := basic{c.ClientID, c.ClientSecret}
	tok := a.secretToken(t, ws, c)
	if !strings.HasPrefix(tok, "lkat_") {
		t.Fatalf("token %q is not opaque", tok)
	}
	wantActive(t, a.introspect(t, ws, tok, cred), true)
	eventually(t, func() (string, bool) { // b learns of the new client through the change feed
		r := b.client.postForm(t, b.wsURL(ws)+"/oauth2/introspect", url.Values{"token": {tok}}, cred)
		return "", r.status == http.StatusOK && r.json["active"] == true
	})
	b.revoke(t, ws, tok, cred)
	wantActive(t, b.introspect(t, ws, tok, cred), false)
	wantActive(t, a.introspect(t, ws, tok, cred), false)
}
