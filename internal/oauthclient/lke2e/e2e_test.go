package lke2e

import (
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/keystore"
	"github.com/latchkey/latchkey/internal/oauthclient"
	"github.com/latchkey/latchkey/internal/server"
)

const adminToken = "e2e-admin-token-0123456789abcdefghijklmnop"

type latchkey struct {
	base, issuer string
}

// startLatchkey runs a real server on a loopback port with a fresh SQLite
// data directory; it stops at the end of the test. opts are passed to
// server.New (e.g. server.WithClock).
func startLatchkey(t *testing.T, opts ...server.Option) *latchkey {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{"LATCHKEY_ADMIN_TOKEN": adminToken}
	cfg, err := config.Load(config.Options{
		Flags:     map[string]string{"listen": "127.0.0.1:0", "data-dir": dir},
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		HomeDir:   func() (string, error) { return dir, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler), append([]server.Option{server.WithStderr(io.Discard)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("server did not stop")
		}
	})
	lk := &latchkey{base: srv.BaseURL()}
	lk.issuer = lk.base + "/w/default"
	lk.admin(t, "POST", "/admin/v1/workspaces/default/services",
		`{"name":"Orders","identifier":"https://orders.example","scopes":[{"name":"orders:read","description":"read"}]}`)
	return lk
}

func (lk *latchkey) admin(t *testing.T, method, path, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, lk.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	var doc map[string]any
	_ = json.Unmarshal(raw, &doc)
	return doc
}

// client registers a confidential client_credentials client with method.
func (lk *latchkey) client(t *testing.T, method string, jwks []byte) (id, secret string) {
	t.Helper()
	body := map[string]any{
		"name": method, "type": "confidential", "grant_types": []string{"client_credentials"},
		"scopes": []string{"orders:read"}, "token_endpoint_auth_method": method,
	}
	if jwks != nil {
		body["jwks"] = json.RawMessage(jwks)
	}
	b, _ := json.Marshal(body)
	doc := lk.admin(t, "POST", "/admin/v1/workspaces/default/clients", string(b))
	id, _ = doc["client_id"].(string)
	secret, _ = doc["client_secret"].(string)
	return id, secret
}

// newKey makes a key and certificate as "latchkey keys new" does, and the
// JWKS to upload for it (kid = x5t#S256).
func newKey(t *testing.T, typ string) (*keystore.Contents, []byte) {
	t.Helper()
	k, err := keystore.Generate(keystore.GenerateOptions{Type: typ, Subject: pkix.Name{CommonName: "e2e"}})
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := k.PublicJWK(k.DefaultKID())
	if err != nil {
		t.Fatal(err)
	}
	jwk.Certificates, jwk.CertificateThumbprintSHA1, jwk.CertificateThumbprintSHA256 = nil, nil, nil
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	return k, set
}

// TestClientCredentialsAgainstLatchkey: every client authentication method
// Latchkey supports, through discovery, against the real server.
func TestClientCredentialsAgainstLatchkey(t *testing.T) {
	lk := startLatchkey(t)
	rsaKey, rsaJWKS := newKey(t, "rsa")
	ecKey, ecJWKS := newKey(t, "ec")
	cases := []struct {
		name   string
		method oauthclient.AuthMethod
		key    *keystore.Contents
		jwks   []byte
		aud    string
	}{
		{"basic", oauthclient.AuthClientSecretBasic, nil, nil, ""},
		{"post", oauthclient.AuthClientSecretPost, nil, nil, ""},
		{"secret jwt", oauthclient.AuthClientSecretJWT, nil, nil, ""},
		{"private key jwt RSA (keys new output)", oauthclient.AuthPrivateKeyJWT, rsaKey, rsaJWKS, oauthclient.AudienceIssuer},
		{"private key jwt EC aud=token endpoint", oauthclient.AuthPrivateKeyJWT, ecKey, ecJWKS, oauthclient.AudienceTokenEndpoint},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, secret := lk.client(t, string(tc.method), tc.jwks)
			auth := oauthclient.ClientAuth{Method: tc.method, ClientID: id, ClientSecret: secret, Audience: tc.aud}
			if tc.key != nil {
				auth.Key, auth.KeyID = tc.key.Signer, tc.key.DefaultKID()
			}
			c := &oauthclient.Client{Issuer: lk.issuer, Auth: auth}
			tok, err := c.ClientCredentials(t.Context(), oauthclient.Params{Scopes: []string{"orders:read"}})
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || tok.Scope != "orders:read" || tok.Expiry.IsZero() {
				t.Fatalf("%+v", tok)
			}
		})
	}
}

// TestLatchkeyErrorsShownAsTheyCame: a wrong secret gives Latchkey's own
// invalid_client answer plus the hint.
func TestLatchkeyErrorsShownAsTheyCame(t *testing.T) {
	lk := startLatchkey(t)
	id, _ := lk.client(t, "client_secret_basic", nil)
	c := &oauthclient.Client{Issuer: lk.issuer, Auth: oauthclient.ClientAuth{Method: oauthclient.AuthClientSecretBasic, ClientID: id, ClientSecret: "wrong"}}
	_, err := c.ClientCredentials(t.Context(), oauthclient.Params{})
	var oe *oauthclient.Error
	if !errors.As(err, &oe) || oe.Code != "invalid_client" || oe.Status != 401 || oe.Hint() == "" {
		t.Fatalf("err = %v", err)
	}
}
