package grants_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2/clientcredentials"

	xoauth2 "golang.org/x/oauth2"

	"github.com/latchkey/latchkey/internal/clientauth"
	"github.com/latchkey/latchkey/internal/discovery"
	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/grants/grantstest"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

const (
	ordersAPI  = "https://orders.example/api"
	billingAPI = "https://billing.example"
)

var allScopes = []string{"billing:read", "orders:read", "orders:write"}

// fixture is one workspace "acme" (and an empty workspace "other") with two
// services and a set of clients covering the error paths.
type fixture struct {
	env     *grantstest.Env
	handler *grants.Handler
	metrics *fakeMetrics
	secrets map[string]string
}

func newFixture(t testing.TB, alg string) *fixture {
	t.Helper()
	env := grantstest.New(t)
	f := &fixture{env: env, metrics: &fakeMetrics{}, secrets: map[string]string{}}
	env.Workspace(t, "acme", alg, storage.WorkspaceSettings{AccessTokenTTL: 10 * time.Minute})
	env.Workspace(t, "other", alg, storage.WorkspaceSettings{})
	dis := env.Workspace(t, "disabled", alg, storage.WorkspaceSettings{})
	_, _ = env.Store.UpdateWorkspace(context.Background(), dis.ID, func(w storage.Workspace) (storage.Workspace, error) {
		w.Enabled = false
		return w, nil
	})
	env.Service(t, "acme", "orders", ordersAPI, "orders:read", "orders:write")
	env.Service(t, "acme", "billing", billingAPI, "billing:read")
	f.client(t, storage.Client{ID: "svc", Scopes: allScopes})
	f.client(t, storage.Client{ID: "svc-post", Scopes: allScopes, TokenEndpointAuthMethod: oauth2.AuthClientSecretPost})
	f.client(t, storage.Client{ID: "svc-short", Scopes: []string{"orders:read"}, AccessTokenTTL: 90 * time.Second})
	f.client(t, storage.Client{ID: "no-scopes"})
	f.client(t, storage.Client{ID: "public-app", Type: oauth2.ClientPublic, TokenEndpointAuthMethod: oauth2.AuthNone, Scopes: allScopes})
	f.client(t, storage.Client{ID: "no-cc", Scopes: allScopes, GrantTypes: []string{oauth2.GrantJWTBearer}})
	dc := f.client(t, storage.Client{ID: "disabled-client", Scopes: allScopes})
	_, _ = env.Store.UpdateClient(context.Background(), "acme", dc.ID, func(c storage.Client) (storage.Client, error) {
		c.Enabled = false
		return c, nil
	})
	f.handler = &grants.Handler{
		Store: env.Store, Auth: env.Auth, Keys: env.Keys, BaseURL: env.BaseURL,
		Now: env.Clock.Now, Logger: env.Logger, Metrics: f.metrics,
		Defaults: grants.Defaults{AccessTokenTTL: time.Hour},
	}
	f.handler.Mount(env.Mux)
	(&discovery.Handler{Store: env.Store, Keys: env.Keys, BaseURL: env.BaseURL, GrantTypes: grants.Supported}).Mount(env.Mux)
	return f
}

func (f *fixture) client(t testing.TB, c storage.Client) storage.Client {
	t.Helper()
	// The JWT bearer tests were written for "all users may
	// self-authorize", which is no longer the default (docs/security.md
	// R1): their clients now choose it explicitly. The default itself is
	// tested by TestJWTBearerDefaultNobodyPreAuthorized.
	if slices.Contains(c.GrantTypes, oauth2.GrantJWTBearer) && (c.JWTBearer == nil || c.JWTBearer.PreAuth == "") {
		st := storage.JWTBearerSettings{}
		if c.JWTBearer != nil {
			st = *c.JWTBearer
		}
		st.PreAuth = storage.PreAuthAllUsers
		c.JWTBearer = &st
	}
	created, secret := f.env.Client(t, "acme", c)
	f.secrets[c.ID] = secret
	return created
}

func (f *fixture) tokenURL(ws string) string { return f.env.Issuer(ws) + "/oauth2/token" }

// post sends a form to the token endpoint with optional Basic credentials.
func (f *fixture) post(t testing.TB, ws string, form url.Values, basicID, basicSecret string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.tokenURL(ws), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) *http.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

type wireError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// assertError checks an RFC 6749 §5.2 error response.
func assertError(t *testing.T, resp *http.Response, status int, code string) wireError {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, status, body)
	}
	assertNoStore(t, resp)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var e wireError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if e.Error != code {
		t.Fatalf("error = %q (%s), want %q", e.Error, e.Description, code)
	}
	if status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate (RFC 6749 §5.2)")
	}
	return e
}

// assertNoStore is RFC 6749 §5.1 / SECURITY.md G9.
func assertNoStore(t *testing.T, resp *http.Response) {
	t.Helper()
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("cache headers %q / %q", resp.Header.Get("Cache-Control"), resp.Header.Get("Pragma"))
	}
}

func cc(scope string) url.Values {
	v := url.Values{"grant_type": {oauth2.GrantClientCredentials}}
	if scope != "" {
		v.Set("scope", scope)
	}
	return v
}

func TestTokenEndpointErrors(t *testing.T) {
	f := newFixture(t, oauth2.AlgES256)
	s := f.secrets
	raw := func(method, target, contentType, body string) func(t *testing.T) *http.Response {
		return func(t *testing.T) *http.Response {
			req, _ := http.NewRequest(method, target, strings.NewReader(body))
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			req.SetBasicAuth("svc", s["svc"])
			return do(t, req)
		}
	}
	form := func(ws string, v url.Values, id, secret string) func(t *testing.T) *http.Response {
		return func(t *testing.T) *http.Response { return f.post(t, ws, v, id, secret) }
	}
	tok := f.tokenURL("acme")
	tests := []struct {
		name   string
		send   func(t *testing.T) *http.Response
		status int
		code   string
	}{
		{"Q1 GET", raw(http.MethodGet, tok, "", ""), 405, "invalid_request"},
		{"Q1 PUT", raw(http.MethodPut, tok, "application/x-www-form-urlencoded", "grant_type=client_credentials"), 405, "invalid_request"},
		{"Q2 JSON body", raw(http.MethodPost, tok, "application/json", `{"grant_type":"client_credentials"}`), 400, "invalid_request"},
		{"M1 1 MiB body", raw(http.MethodPost, tok, "application/x-www-form-urlencoded", "grant_type=client_credentials&x="+strings.Repeat("a", 1<<20)), 413, "invalid_request"},
		{"M2 100000 parameters", raw(http.MethodPost, tok, "application/x-www-form-urlencoded", strings.Repeat("a&", 100000)), 413, "invalid_request"},
		{"M2 500 parameters", raw(http.MethodPost, tok, "application/x-www-form-urlencoded", strings.Repeat("a=1&", 500)), 400, "invalid_request"},
		{"M6 1 MiB scope", raw(http.MethodPost, tok, "application/x-www-form-urlencoded", "grant_type=client_credentials&scope="+strings.Repeat("s", 5000)), 400, "invalid_request"},
		{"D4 client_secret in query", raw(http.MethodPost, tok+"?client_id=svc-post&client_secret="+s["svc-post"], "application/x-www-form-urlencoded", "grant_type=client_credentials"), 400, "invalid_request"},
		{"missing grant_type", form("acme", url.Values{"scope": {"orders:read"}}, "svc", s["svc"]), 400, "invalid_request"},
		{"repeated grant_type (RFC 6749 §3.2)", raw(http.MethodPost, tok, "application/x-www-form-urlencoded", "grant_type=client_credentials&grant_type=client_credentials"), 400, "invalid_request"},
		{"repeated scope", raw(http.MethodPost, tok, "application/x-www-form-urlencoded", "grant_type=client_credentials&scope=orders:read&scope=orders:write"), 400, "invalid_request"},
		{"Q3 password grant", form("acme", url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"p"}}, "svc", s["svc"]), 400, "unsupported_grant_type"},
		{"unknown grant type", form("acme", url.Values{"grant_type": {"urn:example:nope"}}, "svc", s["svc"]), 400, "unsupported_grant_type"},
		{"D1 wrong secret (Basic)", form("acme", cc(""), "svc", "wrong"), 401, "invalid_client"},
		{"D2 unknown client", form("acme", cc(""), "nobody", "wrong"), 401, "invalid_client"},
		{"no credentials", form("acme", cc(""), "", ""), 401, "invalid_client"},
		{"D4 post credentials for a basic client", form("acme", url.Values{"grant_type": {oauth2.GrantClientCredentials}, "client_id": {"svc"}, "client_secret": {s["svc"]}}, "", ""), 401, "invalid_client"},
		{"B10 two methods in one request", form("acme", url.Values{"grant_type": {oauth2.GrantClientCredentials}, "client_id": {"svc"}, "client_secret": {s["svc"]}}, "svc", s["svc"]), 400, "invalid_request"},
		{"O3 disabled client", form("acme", cc(""), "disabled-client", s["disabled-client"]), 401, "invalid_client"},
		{"D6 public client", form("acme", url.Values{"grant_type": {oauth2.GrantClientCredentials}, "client_id": {"public-app"}}, "", ""), 400, "unauthorized_client"},
		{"Q4 grant type not allowed for client", form("acme", cc(""), "no-cc", s["no-cc"]), 400, "unauthorized_client"},
		{"D7 scope beyond allowed", form("acme", cc("orders:read admin"), "svc-short", s["svc-short"]), 400, "invalid_scope"},
		{"D7 scope of another service", form("acme", cc("orders:write"), "svc-short", s["svc-short"]), 400, "invalid_scope"},
		{"bad resource", form("acme", url.Values{"grant_type": {oauth2.GrantClientCredentials}, "resource": {"not a uri"}}, "svc", s["svc"]), 400, "invalid_target"},
		{"unknown resource", form("acme", url.Values{"grant_type": {oauth2.GrantClientCredentials}, "resource": {"https://evil.example"}}, "svc", s["svc"]), 400, "invalid_target"},
		{"J3 client of another workspace", form("other", cc(""), "svc", s["svc"]), 401, "invalid_client"},
		{"unknown workspace", form("nowhere", cc(""), "svc", s["svc"]), 404, "invalid_request"},
		{"disabled workspace", form("disabled", cc(""), "svc", s["svc"]), 404, "invalid_request"},
		{"malformed workspace", raw(http.MethodPost, f.env.BaseURL+"/w/%2E%2E/oauth2/token", "application/x-www-form-urlencoded", "grant_type=client_credentials"), 404, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := tc.send(t)
			assertError(t, resp, tc.status, tc.code)
			if tc.status == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != http.MethodPost {
				t.Fatalf("Allow = %q", resp.Header.Get("Allow"))
			}
		})
	}
}

// TestClientEnumeration is D2: an unknown client and a wrong secret for a
// known client are indistinguishable on the wire.
func TestClientEnumeration(t *testing.T) {
	f := newFixture(t, oauth2.AlgES256)
	read := func(resp *http.Response) (int, string, string) {
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
	}
	s1, h1, b1 := read(f.post(t, "acme", cc(""), "svc", "wrong"))
	s2, h2, b2 := read(f.post(t, "acme", cc(""), "nobody", "wrong"))
	if s1 != s2 || h1 != h2 || b1 != b2 {
		t.Fatalf("distinguishable:\n%d %q %s\n%d %q %s", s1, h1, b1, s2, h2, b2)
	}
}

// tokenClaims are the RFC 9068 §2.2 claims of our access tokens.
type tokenClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience []string `json:"aud"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
	JTI      string   `json:"jti"`
	IssuedAt int64    `json:"iat"`
	Expiry   int64    `json:"exp"`
}

func (c *tokenClaims) UnmarshalJSON(b []byte) error {
	type plain tokenClaims
	var raw struct {
		plain
		Audience json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*c = tokenClaims(raw.plain)
	if len(raw.Audience) > 0 && raw.Audience[0] == '"' {
		var s string
		if err := json.Unmarshal(raw.Audience, &s); err != nil {
			return err
		}
		c.Audience = []string{s}
		return nil
	}
	return json.Unmarshal(raw.Audience, &c.Audience)
}

// verifyWithOIDC verifies raw with go-oidc against the published JWKS,
// issuer check on, and returns its claims and JOSE header.
func verifyWithOIDC(t *testing.T, f *fixture, raw, alg string) (tokenClaims, jose.Header) {
	t.Helper()
	ctx := context.Background()
	issuer := f.env.Issuer("acme")
	ks := oidc.NewRemoteKeySet(ctx, issuer+"/oauth2/jwks")
	v := oidc.NewVerifier(issuer, ks, &oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{alg}})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc verify: %v", err)
	}
	var claims tokenClaims
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatal(err)
	}
	return claims, jws.Signatures[0].Protected
}

func TestClientCredentialsWithOAuth2Library(t *testing.T) {
	for _, alg := range oauth2.SigningAlgs {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			for _, tc := range []struct {
				name   string
				client string
				style  xoauth2.AuthStyle
			}{
				{"client_secret_basic", "svc", xoauth2.AuthStyleInHeader},
				{"client_secret_post", "svc-post", xoauth2.AuthStyleInParams},
			} {
				t.Run(tc.name, func(t *testing.T) {
					cfg := clientcredentials.Config{
						ClientID: tc.client, ClientSecret: f.secrets[tc.client],
						TokenURL: f.tokenURL("acme"), Scopes: []string{"orders:read", "orders:write"}, AuthStyle: tc.style,
					}
					tok, err := cfg.Token(context.Background())
					if err != nil {
						t.Fatalf("Token: %v", err)
					}
					if tok.TokenType != "Bearer" || tok.RefreshToken != "" {
						t.Fatalf("token_type %q refresh %q (D6: no refresh token)", tok.TokenType, tok.RefreshToken)
					}
					if got := tok.Extra("scope"); got != "orders:read orders:write" {
						t.Fatalf("scope = %v", got)
					}
					claims, hdr := verifyWithOIDC(t, f, tok.AccessToken, alg)
					if hdr.ExtraHeaders["typ"] != "at+jwt" || hdr.KeyID == "" {
						t.Fatalf("header typ %v kid %q (RFC 9068 §2.1)", hdr.ExtraHeaders["typ"], hdr.KeyID)
					}
					want := tokenClaims{
						Issuer: f.env.Issuer("acme"), Subject: tc.client, ClientID: tc.client,
						Audience: []string{ordersAPI}, Scope: "orders:read orders:write",
						JTI: claims.JTI, IssuedAt: claims.IssuedAt, Expiry: claims.IssuedAt + 600,
					}
					if !equalClaims(claims, want) || len(claims.JTI) < 16 {
						t.Fatalf("claims = %+v, want %+v", claims, want)
					}
				})
			}
		})
	}
}

func equalClaims(a, b tokenClaims) bool {
	return a.Issuer == b.Issuer && a.Subject == b.Subject && a.ClientID == b.ClientID &&
		slices.Equal(a.Audience, b.Audience) && a.Scope == b.Scope && a.JTI == b.JTI &&
		a.IssuedAt == b.IssuedAt && a.Expiry == b.Expiry
}

type tokenBody struct {
	AccessToken  string  `json:"access_token"`
	TokenType    string  `json:"token_type"`
	ExpiresIn    int64   `json:"expires_in"`
	Scope        *string `json:"scope"`
	RefreshToken *string `json:"refresh_token"`
}

// okBody reads a successful (200, no-store) token response body.
func okBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	assertNoStore(t, resp)
	return body
}

func decodeToken(t *testing.T, resp *http.Response) tokenBody {
	t.Helper()
	body := okBody(t, resp)
	var tb tokenBody
	if err := json.Unmarshal(body, &tb); err != nil {
		t.Fatal(err)
	}
	if tb.Scope == nil || tb.RefreshToken != nil || tb.TokenType != "Bearer" {
		t.Fatalf("response %s: scope must be present, no refresh_token (D6)", body)
	}
	return tb
}

func TestClientCredentialsResponses(t *testing.T) {
	f := newFixture(t, oauth2.AlgRS256)
	s := f.secrets
	tests := []struct {
		name      string
		form      url.Values
		client    string
		scope     string
		audience  []string
		expiresIn int64
	}{
		{"default scopes, audience of their services", cc(""), "svc", "billing:read orders:read orders:write", []string{billingAPI, ordersAPI}, 600},
		{"explicit scope", cc("billing:read"), "svc", "billing:read", []string{billingAPI}, 600},
		{"resource narrows scopes (RFC 8707)", url.Values{"grant_type": {oauth2.GrantClientCredentials}, "resource": {ordersAPI}}, "svc", "orders:read orders:write", []string{ordersAPI}, 600},
		{"client TTL override", cc(""), "svc-short", "orders:read", []string{ordersAPI}, 90},
		{"Q5 no scopes: audience is the issuer", cc(""), "no-scopes", "", []string{f.env.Issuer("acme")}, 600},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := decodeToken(t, f.post(t, "acme", tc.form, tc.client, s[tc.client]))
			if *tb.Scope != tc.scope || tb.ExpiresIn != tc.expiresIn {
				t.Fatalf("scope %q expires_in %d, want %q %d", *tb.Scope, tb.ExpiresIn, tc.scope, tc.expiresIn)
			}
			claims, _ := verifyWithOIDC(t, f, tb.AccessToken, oauth2.AlgRS256)
			if !slices.Equal(claims.Audience, tc.audience) || claims.Expiry-claims.IssuedAt != tc.expiresIn {
				t.Fatalf("aud %q exp-iat %d", claims.Audience, claims.Expiry-claims.IssuedAt)
			}
		})
	}
}

// TestBasicCredentialEncoding is D5: id and secret are form-urlencoded
// before base64 (RFC 6749 §2.3.1), so a secret with ":", "+" and "%" works.
func TestBasicCredentialEncoding(t *testing.T) {
	f := newFixture(t, oauth2.AlgES256)
	const secret = "s3:cr+t%25 x"
	ct, err := f.env.Keyring.Encrypt([]byte(secret), grantstest.SecretAAD("acme", "svc"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Store.UpdateClient(context.Background(), "acme", "svc", func(c storage.Client) (storage.Client, error) {
		c.SecretCiphertext = ct
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, f.tokenURL("acme"), strings.NewReader(cc("").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("svc:"+url.QueryEscape(secret))))
	decodeToken(t, do(t, req))
}

// TestMetricsLabels checks the metric labels stay bounded: an arbitrary
// grant_type is counted as "unsupported", never as itself.
func TestMetricsLabels(t *testing.T) {
	f := newFixture(t, oauth2.AlgES256)
	decodeToken(t, f.post(t, "acme", cc(""), "svc", f.secrets["svc"]))
	assertError(t, f.post(t, "acme", url.Values{"grant_type": {"x-random-123"}}, "svc", f.secrets["svc"]), 400, "unsupported_grant_type")
	assertError(t, f.post(t, "acme", cc(""), "svc", "bad"), 401, "invalid_client")
	want := []string{
		"request client_credentials success", "issued client_credentials",
		"request unsupported unsupported_grant_type",
		"request client_credentials invalid_client",
	}
	if got := f.metrics.events(); !slices.Equal(got, want) {
		t.Fatalf("metrics = %q, want %q", got, want)
	}
}

type fakeMetrics struct {
	mu  sync.Mutex
	log []string
}

func (m *fakeMetrics) TokenIssued(gt string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log = append(m.log, "issued "+gt)
}

func (m *fakeMetrics) TokenRequest(gt, outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log = append(m.log, "request "+gt+" "+outcome)
}

func (m *fakeMetrics) events() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.log)
}

// writeCounter records storage writes: the client_credentials path makes
// none but one reservation per block of status list indexes.
type writeCounter struct {
	storage.Storage
	mu     sync.Mutex
	writes []string
}

func (w *writeCounter) record(op string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, op)
}

func (w *writeCounter) UseJTI(ctx context.Context, j storage.JTI) error {
	w.record("UseJTI")
	return w.Storage.UseJTI(ctx, j)
}

func (w *writeCounter) RevokeToken(ctx context.Context, r storage.RevokedToken) error {
	w.record("RevokeToken")
	return w.Storage.RevokeToken(ctx, r)
}

func (w *writeCounter) UpdateClient(ctx context.Context, ws, id string, fn func(storage.Client) (storage.Client, error)) (storage.Client, error) {
	w.record("UpdateClient")
	return w.Storage.UpdateClient(ctx, ws, id, fn)
}

func (w *writeCounter) UpdateSigningKeys(ctx context.Context, ws string, fn func([]storage.SigningKey) ([]storage.SigningKey, error)) ([]storage.SigningKey, error) {
	w.record("UpdateSigningKeys")
	return w.Storage.UpdateSigningKeys(ctx, ws, fn)
}

func (w *writeCounter) UpdateWorkspace(ctx context.Context, id string, fn func(storage.Workspace) (storage.Workspace, error)) (storage.Workspace, error) {
	w.record("UpdateWorkspace")
	return w.Storage.UpdateWorkspace(ctx, id, fn)
}

func TestClientCredentialsDoesNotWrite(t *testing.T) {
	f := newFixture(t, oauth2.AlgES256)
	wc := &writeCounter{Storage: f.env.Store}
	auth := &clientauth.Authenticator{Store: wc, Keyring: f.env.Keyring, Now: f.env.Clock.Now, Logger: f.env.Logger}
	h := *f.handler
	h.Store, h.Auth = wc, auth
	// Status list indexes come from blocks reserved ahead of use
	// (draft-ietf-oauth-status-list §6.2 claim): one write per block of
	// 2 here, so 5 tokens make exactly 3 reservations and nothing else.
	h.Status = countedStatus(wc, 2)
	mux := http.NewServeMux()
	h.Mount(mux)
	for range 5 {
		rec := httptestPost(mux, "/w/acme/oauth2/token", cc(""), "svc", f.secrets["svc"])
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	if want := []string{"ReserveStatusIndexes", "ReserveStatusIndexes", "ReserveStatusIndexes"}; !slices.Equal(wc.writes, want) {
		t.Fatalf("storage writes on the client_credentials path: %q, want only %q (one per reserved block)", wc.writes, want)
	}
}
