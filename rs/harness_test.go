package rs_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchkey/latchkey/internal/dpop"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// latchkey is a real Latchkey server in this process, on loopback, with
// an adjustable clock.
type latchkey struct {
	base, admin string
	clock       *e2etest.Clock
	leaks       *e2etest.SecretList
}

// forEachBackend runs fn against a server on SQLite and one on PostgreSQL
// (a fresh schema; skipped without LATCHKEY_TEST_POSTGRES_DSN).
func forEachBackend(t *testing.T, fn func(t *testing.T, lk *latchkey)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, startLatchkey(t, "")) })
	t.Run("postgres", func(t *testing.T) { fn(t, startLatchkey(t, e2etest.PostgresSchemaDSN(t, "lk_rs_"))) })
}

func startLatchkey(t *testing.T, dsn string) *latchkey {
	t.Helper()
	lk := &latchkey{admin: "rs-admin-" + e2etest.RandomToken(32), clock: &e2etest.Clock{}, leaks: &e2etest.SecretList{}}
	lk.leaks.Add(lk.admin)
	logs := &e2etest.SyncBuffer{}
	cfg := e2etest.LoadConfig(t, e2etest.Config{DataDir: t.TempDir(), DSN: dsn, AdminToken: lk.admin})
	srv := e2etest.StartServer(t, cfg, lk.clock.Now, logs)
	lk.base = srv.BaseURL
	t.Cleanup(func() {
		srv.Stop(t)
		lk.leaks.CheckLog(t, "server", logs.String())
	})
	return lk
}

func (lk *latchkey) issuer(ws string) string { return lk.base + "/w/" + ws }

// adminOK calls the admin API and requires status want.
func (lk *latchkey) adminOK(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(e2etest.AdminRequest(t, lk.base, lk.admin, method, path, body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	e2etest.RequireAdminStatus(t, method, path, resp.StatusCode, raw, want, out)
}

type client struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// setUp creates two APIs (orders, billing) and a client_credentials
// client allowed all their scopes; body adds client settings.
func (lk *latchkey) setUp(t *testing.T, ws string, body map[string]any) client {
	t.Helper()
	for _, s := range []struct{ id, identifier, scopes string }{
		{"orders", ordersAPI, "orders:read orders:write"},
		{"billing", billingAPI, "billing:read"},
	} {
		var list []map[string]string
		for _, sc := range strings.Fields(s.scopes) {
			list = append(list, map[string]string{"name": sc, "description": "scope " + sc})
		}
		lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/services", map[string]any{
			"id": s.id, "name": "Service " + s.id, "description": "rs test", "identifier": s.identifier, "scopes": list,
		}, http.StatusCreated, nil)
	}
	req := map[string]any{"name": "rs test client", "grant_types": []string{"client_credentials"},
		"token_endpoint_auth_method": "client_secret_basic",
		"scopes":                     []string{"orders:read", "orders:write", "billing:read"}}
	for k, v := range body {
		req[k] = v
	}
	var c client
	lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/clients", req, http.StatusCreated, &c)
	lk.leaks.Add(c.ClientSecret)
	return c
}

// token gets a client_credentials token for scopes with x/oauth2.
func (lk *latchkey) token(t *testing.T, ws string, c client, scopes ...string) string {
	t.Helper()
	cfg := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		TokenURL: lk.issuer(ws) + "/oauth2/token", Scopes: scopes}
	tok, err := cfg.Token(t.Context())
	if err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	lk.leaks.AddToken(tok.AccessToken)
	return tok.AccessToken
}

// revoke revokes a token with RFC 7009.
func (lk *latchkey) revoke(t *testing.T, ws string, c client, token string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, lk.issuer(ws)+"/oauth2/revoke",
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
}

// call sends GET target with the Authorization header auth ("" = none)
// and extra headers, returning status, WWW-Authenticate and body.
func call(t *testing.T, target, auth string, hdr map[string]string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(body)
}

// dpopKey is a client's DPoP key; proof signs RFC 9449 proofs with it.
type dpopKey struct {
	priv *ecdsa.PrivateKey
	jkt  string
}

func newDPoPKey(t *testing.T) dpopKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jkt, err := dpop.Thumbprint(jose.JSONWebKey{Key: k.Public()})
	if err != nil {
		t.Fatal(err)
	}
	return dpopKey{priv: k, jkt: jkt}
}

// proof is a DPoP proof for method and uri; accessToken, when set, is
// bound through ath (RFC 9449 §4.2).
func (k dpopKey) proof(t *testing.T, method, uri, accessToken string) string {
	t.Helper()
	claims := map[string]any{"jti": e2etest.RandomToken(16), "htm": method, "htu": uri, "iat": time.Now().Unix()}
	if accessToken != "" {
		claims["ath"] = dpop.ATH(accessToken)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv}, &jose.SignerOptions{
		ExtraHeaders: map[jose.HeaderKey]any{"typ": "dpop+jwt", "jwk": jose.JSONWebKey{Key: k.priv.Public()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dpopToken gets a DPoP-bound client_credentials token (RFC 9449 §5).
func (lk *latchkey) dpopToken(t *testing.T, ws string, c client, k dpopKey, scope string) string {
	t.Helper()
	tokenURL := lk.issuer(ws) + "/oauth2/token"
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, tokenURL,
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", k.proof(t, http.MethodPost, tokenURL, ""))
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != http.StatusOK || out.TokenType != "DPoP" {
		t.Fatalf("DPoP token request: %d %s", resp.StatusCode, raw)
	}
	lk.leaks.AddToken(out.AccessToken)
	return out.AccessToken
}

// claimsOf decodes a JWT's payload without verifying it.
func claimsOf(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
