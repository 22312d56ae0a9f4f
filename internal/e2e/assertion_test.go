package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// clientAssertionType is RFC 7523 §2.2's client_assertion_type.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// clientKey is a key pair a private_key_jwt client signs with.
type clientKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv any
	pub  any
}

func newRSAKey(t *testing.T, kid string, alg jose.SignatureAlgorithm) clientKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return clientKey{kid: kid, alg: alg, priv: k, pub: &k.PublicKey}
}

func newECKey(t *testing.T, kid string) clientKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return clientKey{kid: kid, alg: jose.ES256, priv: k, pub: &k.PublicKey}
}

// publicJWKS is the inline JWKS (public parts only) a client registers.
func publicJWKS(t *testing.T, keys ...clientKey) json.RawMessage {
	t.Helper()
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.pub, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signAssertion signs an RFC 7523 §3 client assertion with go-jose:
// iss = sub = clientID, aud = audience (a single string), exp in two
// minutes, a fresh jti.
func signAssertion(t *testing.T, key jose.SigningKey, clientID, audience string) string {
	t.Helper()
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatalf("signer: %v", err)
	}
	now := time.Now()
	raw, err := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: clientID, Subject: clientID, Audience: jwt.Audience{audience},
		Expiry: jwt.NewNumericDate(now.Add(2 * time.Minute)), IssuedAt: jwt.NewNumericDate(now),
		ID: e2etest.RandomToken(16),
	}).Serialize()
	if err != nil {
		t.Fatalf("sign assertion: %v", err)
	}
	return raw
}

func (k clientKey) signingKey() jose.SigningKey {
	return jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}}
}

// assertionConfig is an x/oauth2 client that authenticates with the given
// assertion: client_id and the assertion in the body, no secret.
func assertionConfig(tokenURL, clientID, assertion string) *clientcredentials.Config {
	return ccConfig(tokenURL, clientInfo{ClientID: clientID}, oauth2.AuthStyleInParams, nil, url.Values{
		"client_assertion_type": {clientAssertionType}, "client_assertion": {assertion},
	})
}

// TestPrivateKeyJWT: a client registered with an inline JWKS holding an
// RSA and an EC key authenticates with go-jose-signed assertions; a
// replayed assertion is refused (SECURITY.md B7).
func TestPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	rsaKey, psKey, ecKey := newRSAKey(t, "rsa-1", jose.RS256), newRSAKey(t, "rsa-ps", jose.PS256), newECKey(t, "ec-1")
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "default"
		lk.createService(t, ws, "orders", "https://orders.example", "orders:read")
		c := lk.createClient(t, ws, map[string]any{
			"name": "pkjwt", "token_endpoint_auth_method": "private_key_jwt", "scopes": []string{"orders:read"},
			"jwks": publicJWKS(t, rsaKey, psKey, ecKey),
		})
		if c.ClientSecret != "" {
			t.Errorf("private_key_jwt client was issued a secret")
		}
		issuer := lk.issuer(ws)
		tokenURL := issuer + "/oauth2/token"
		for _, k := range []clientKey{rsaKey, psKey, ecKey} {
			t.Run(string(k.alg), func(t *testing.T) {
				assertion := signAssertion(t, k.signingKey(), c.ClientID, issuer)
				tok := lk.mustToken(t, assertionConfig(tokenURL, c.ClientID, assertion))
				claims := verifyWithOIDC(t, issuer, issuer+"/oauth2/jwks", tok.AccessToken, "RS256")
				if claims.ClientID != c.ClientID || claims.Scope != "orders:read" {
					t.Errorf("claims %+v", claims)
				}
				// B7: the same assertion a second time.
				_, err := lk.fetchToken(t, assertionConfig(tokenURL, c.ClientID, assertion))
				wantOAuthError(t, err, http.StatusUnauthorized, "invalid_client")
			})
		}
		t.Run("B7 replay at introspection", func(t *testing.T) {
			// A jti spent at /token is spent everywhere (B7, B11).
			assertion := signAssertion(t, ecKey.signingKey(), c.ClientID, issuer)
			tok := lk.mustToken(t, assertionConfig(tokenURL, c.ClientID, assertion))
			r := lk.client.postForm(t, issuer+"/oauth2/introspect", url.Values{
				"token": {tok.AccessToken}, "client_id": {c.ClientID},
				"client_assertion_type": {clientAssertionType}, "client_assertion": {assertion},
			}, basic{})
			if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
				t.Fatalf("replayed assertion at introspection: %d %s", r.status, r.raw)
			}
		})
	})
}

// TestClientSecretJWT: a client_secret_jwt client signs its assertion
// with HS256 keyed by its client secret (RFC 7523 §2.2, OIDC Core §9).
func TestClientSecretJWT(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "default"
		lk.createService(t, ws, "orders", "https://orders.example", "orders:read")
		c := lk.secretClient(t, ws, "client_secret_jwt", "orders:read")
		issuer := lk.issuer(ws)
		key := jose.SigningKey{Algorithm: jose.HS256, Key: []byte(c.ClientSecret)}
		assertion := signAssertion(t, key, c.ClientID, issuer)
		tok := lk.mustToken(t, assertionConfig(issuer+"/oauth2/token", c.ClientID, assertion))
		verifyWithOIDC(t, issuer, issuer+"/oauth2/jwks", tok.AccessToken, "RS256")
		_, err := lk.fetchToken(t, assertionConfig(issuer+"/oauth2/token", c.ClientID, assertion))
		wantOAuthError(t, err, http.StatusUnauthorized, "invalid_client") // B7

		// A wrong HMAC key is refused.
		bad := signAssertion(t, jose.SigningKey{Algorithm: jose.HS256, Key: []byte(c.ClientSecret + "x")}, c.ClientID, issuer)
		_, err = lk.fetchToken(t, assertionConfig(issuer+"/oauth2/token", c.ClientID, bad))
		wantOAuthError(t, err, http.StatusUnauthorized, "invalid_client")
	})
}

// TestJWKSURIPrivateAddressRefused: with the default (strict) outbound
// rules, registration of a jwks_uri that is not https or points at a
// loopback or private address is refused with 400 (SECURITY.md L1: not
// https; L2: loopback/private) and the test listener sees no connection.
func TestJWKSURIPrivateAddressRefused(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	t.Cleanup(ts.Close)
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	forEachBackend(t, func(t *testing.T, lk *instance) {
		for _, uri := range []string{
			ts.URL + "/jwks",                           // L1 + L2: http and loopback
			"https://127.0.0.1:" + port + "/jwks",      // L2
			"https://[::1]/jwks",                       // L2
			"https://10.0.0.1/jwks",                    // L2
			"https://169.254.169.254/latest/meta-data", // L2
		} {
			r := lk.adminDo(t, http.MethodPost, "/workspaces/default/clients", map[string]any{
				"name": "remote keys", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": uri,
			})
			if r.status != http.StatusBadRequest {
				t.Errorf("L1/L2: registration with jwks_uri %s: status %d, want 400: %s", uri, r.status, r.raw)
			}
		}
		if n := hits.Load(); n != 0 {
			t.Errorf("L2: the loopback JWKS server saw %d connections, want 0", n)
		}
	})
}

// TestJWKSURIWithOutboundSwitch: an operator whose JWKS server is internal
// turns on outbound.allow_private_addresses and outbound.allow_http; a
// private_key_jwt client whose keys live at such a jwks_uri then
// authenticates, and the keys are fetched once and cached.
func TestJWKSURIWithOutboundSwitch(t *testing.T) {
	t.Parallel()
	key := newECKey(t, "remote-1")
	var fetches atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(publicJWKS(t, key))
	}))
	t.Cleanup(ts.Close)
	lk := startInstanceEnv(t, "", map[string]string{
		"LATCHKEY_OUTBOUND_ALLOW_PRIVATE_ADDRESSES": "true",
		"LATCHKEY_OUTBOUND_ALLOW_HTTP":              "true",
	})
	const ws = "default"
	lk.createService(t, ws, "orders", "https://orders.example", "orders:read")
	c := lk.createClient(t, ws, map[string]any{
		"name": "remote keys", "token_endpoint_auth_method": "private_key_jwt", "scopes": []string{"orders:read"},
		"jwks_uri": ts.URL + "/jwks",
	})
	issuer := lk.issuer(ws)
	for range 3 {
		assertion := signAssertion(t, key.signingKey(), c.ClientID, issuer)
		tok := lk.mustToken(t, assertionConfig(issuer+"/oauth2/token", c.ClientID, assertion))
		verifyWithOIDC(t, issuer, issuer+"/oauth2/jwks", tok.AccessToken, "RS256")
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("jwks_uri fetched %d times for 3 authentications, want 1 (cached)", n)
	}
}
