package e2e

import (
	"crypto/ecdsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// signJWT signs claims as a compact JWS with key.
func signJWT(t *testing.T, key jose.SigningKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestJWTBearerServerWiring runs the JWT bearer grant through the server
// exactly as `latchkey serve` builds it: HS256 assertions keyed by the
// client secret (the grant needs the keyring) and a trusted external
// issuer whose keys are fetched from its jwks_uri (the grant needs the
// SSRF-safe JWKS cache), mapped to a service user by a claim (CMiC).
func TestJWTBearerServerWiring(t *testing.T) {
	t.Parallel()
	issuerKey := newECKey(t, "ext-1")
	var fetches atomic.Int64
	jwksServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(publicJWKS(t, issuerKey))
	}))
	t.Cleanup(jwksServer.Close)
	lk := startInstanceEnv(t, "", map[string]string{
		"LATCHKEY_OUTBOUND_ALLOW_PRIVATE_ADDRESSES": "true",
		"LATCHKEY_OUTBOUND_ALLOW_HTTP":              "true",
	})
	const ws = "default"
	wsPath := "/workspaces/" + ws
	lk.createService(t, ws, "api", "https://api.example", "api:read")
	c := lk.createClient(t, ws, map[string]any{"name": "integration", "token_endpoint_auth_method": "client_secret_basic",
		"grant_types": []string{jwtBearerGrant}, "scopes": []string{"api:read"}})
	lk.adminOK(t, http.MethodPost, wsPath+"/users", map[string]any{"id": "u-ada", "username": "ada"}, http.StatusCreated, nil)
	lk.adminOK(t, http.MethodPost, wsPath+"/users",
		map[string]any{"id": "u-svc", "username": "svc-user", "service_user": true}, http.StatusCreated, nil)
	tokenURL := lk.wsURL(ws) + "/oauth2/token"
	issuer := lk.issuer(ws)
	grant := func(assertion string) reply {
		r := lk.client.postForm(t, tokenURL, url.Values{"grant_type": {jwtBearerGrant}, "assertion": {assertion}},
			basic{c.ClientID, c.ClientSecret})
		if r.status == http.StatusOK {
			lk.leaks.AddToken(r.str("access_token"))
		}
		return r
	}
	now := time.Now()

	t.Run("HS256 keyed by the client secret", func(t *testing.T) {
		lk.adminOK(t, http.MethodPut, wsPath+"/clients/"+c.ClientID+"/jwt-bearer",
			map[string]any{"allow_hs256": true, "pre_auth": "all_users"}, http.StatusOK, nil)
		a := signJWT(t, jose.SigningKey{Algorithm: jose.HS256, Key: []byte(c.ClientSecret)}, map[string]any{
			"iss": c.ClientID, "sub": "ada", "aud": issuer + "/oauth2/token",
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": e2etest.RandomToken(16)})
		r := grant(a)
		if r.status != http.StatusOK {
			t.Fatalf("HS256 assertion: %d %s", r.status, r.raw)
		}
		if claims := verifyWithOIDC(t, issuer, issuer+"/oauth2/jwks", r.str("access_token"), "RS256"); claims.Subject != "u-ada" {
			t.Errorf("sub %q, want the mapped user u-ada", claims.Subject)
		}
	})

	t.Run("trusted issuer with jwks_uri and a claim mapped to a service user", func(t *testing.T) {
		const extIssuer = "https://login.partner.example"
		lk.adminOK(t, http.MethodPost, wsPath+"/trusted-issuers", map[string]any{
			"id": "partner", "name": "Partner", "issuer": extIssuer, "jwks_uri": jwksServer.URL + "/jwks",
			"audience": "latchkey-app", "allowed_clients": []string{c.ClientID}, "enabled": true,
			"claim": "cmicuser", "claim_format": "tenant||username",
		}, http.StatusCreated, nil)
		for range 2 {
			a := signJWT(t, jose.SigningKey{Algorithm: jose.ES256, Key: issuerKey.priv.(*ecdsa.PrivateKey)}, map[string]any{
				"iss": extIssuer, "sub": "partner-service", "aud": "latchkey-app", "cmicuser": "acme||svc-user",
				"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": e2etest.RandomToken(16)})
			r := grant(a)
			if r.status != http.StatusOK {
				t.Fatalf("trusted issuer assertion: %d %s", r.status, r.raw)
			}
			claims := verifyWithOIDC(t, issuer, issuer+"/oauth2/jwks", r.str("access_token"), "RS256")
			if claims.Subject != "u-svc" || claims.ClientID != c.ClientID {
				t.Errorf("sub %q client_id %q, want the service user u-svc for client %s", claims.Subject, claims.ClientID, c.ClientID)
			}
		}
		if n := fetches.Load(); n != 1 {
			t.Errorf("issuer jwks_uri fetched %d times for 2 assertions, want 1 (cached)", n)
		}
	})
}
