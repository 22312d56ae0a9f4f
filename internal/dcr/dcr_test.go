package dcr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/dcr"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/service/servicetest"
	"github.com/latchkey/latchkey/internal/storage"
)

type env struct {
	t   *testing.T
	srv *httptest.Server
	e   *servicetest.Env
}

// setup serves the registration endpoint over a private in-memory
// database; opts configure the handler (withMTLS).
func setup(t *testing.T, opts ...func(*dcr.Handler)) *env {
	t.Helper()
	e := servicetest.New(t)
	ctx := context.Background()
	if _, err := e.Service.CreateService(ctx, "default", service.ServiceInput{ID: "api", Name: "API", Identifier: "https://api.example",
		Scopes: []storage.Scope{{Name: "read"}, {Name: "write"}}}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	h := &dcr.Handler{Service: e.Service, Store: e.Store, BaseURL: srv.URL}
	for _, o := range opts {
		o(h)
	}
	h.Mount(mux)
	return &env{t: t, srv: srv, e: e}
}

func (v *env) iat(uses int) string {
	v.t.Helper()
	_, tok, err := v.e.Service.CreateInitialAccessToken(context.Background(), "default", service.InitialAccessTokenInput{MaxUses: uses, ExpiresIn: time.Hour})
	if err != nil {
		v.t.Fatal(err)
	}
	return tok
}

func (v *env) call(method, path, token string, body any) (int, map[string]any, http.Header) {
	v.t.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, v.srv.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out, res.Header
}

// refused sends body and wants 400 invalid_client_metadata with exactly
// desc as error_description (RFC 7591 §3.2.2).
func (v *env) refused(t *testing.T, method, path, token string, body any, desc string) {
	t.Helper()
	status, got, _ := v.call(method, path, token, body)
	if status != 400 || got["error"] != "invalid_client_metadata" || got["error_description"] != desc {
		t.Fatalf("%s %s: got %d %v\nwant 400 invalid_client_metadata %q", method, path, status, got, desc)
	}
}

const reg = "/w/default/oauth2/register"

// rotated returns the registration access token of a client information
// response (RFC 7592 §3: REQUIRED), which must be a new one.
func rotated(t *testing.T, old string, body map[string]any) string {
	t.Helper()
	rat, _ := body["registration_access_token"].(string)
	if !strings.HasPrefix(rat, service.RegistrationAccessTokenPrefix) || rat == old {
		t.Fatalf("registration_access_token %q: want a new token (old %q)", rat, old)
	}
	return rat
}

func TestRegisterClientCredentialsClient(t *testing.T) {
	v := setup(t)
	status, body, h := v.call("POST", reg, v.iat(1), map[string]any{
		"client_name": "Svc", "grant_types": []string{"client_credentials"}, "scope": "read write",
		"contacts": []string{"ops@example.com"}, "client_uri": "https://svc.example", "unknown_member": 42,
	})
	if status != 201 || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d %v", status, body)
	}
	id, _ := body["client_id"].(string)
	if id == "" || len(body["client_secret"].(string)) != 43 || body["client_secret_expires_at"] != 0.0 ||
		body["client_id_issued_at"] == nil || body["scope"] != "read write" ||
		body["token_endpoint_auth_method"] != "client_secret_basic" || body["client_uri"] != "https://svc.example" {
		t.Fatalf("response: %v", body)
	}
	rat := body["registration_access_token"].(string)
	if !strings.HasPrefix(rat, "lkr_") || body["registration_client_uri"] != v.srv.URL+reg+"/"+id {
		t.Fatalf("management: %v", body)
	}
	c, err := v.e.Service.GetClient(context.Background(), "default", id)
	if err != nil || !c.Dynamic || len(c.RegistrationAccessTokenHash) != 32 || strings.Contains(string(c.RegistrationAccessTokenHash), rat) {
		t.Fatalf("stored: %+v %v", c, err)
	}

	// RFC 7592 read: no secret; a new registration access token (§3).
	status, body, _ = v.call("GET", reg+"/"+id, rat, nil)
	if status != 200 || body["client_secret"] != nil || body["client_name"] != "Svc" {
		t.Fatalf("read: %d %v", status, body)
	}
	rat = rotated(t, rat, body)
	// Update replaces the metadata.
	status, body, _ = v.call("PUT", reg+"/"+id, rat, map[string]any{
		"client_id": id, "client_name": "Renamed", "grant_types": []string{"client_credentials"}, "scope": "read",
	})
	if status != 200 || body["client_name"] != "Renamed" || body["scope"] != "read" || body["client_uri"] != nil {
		t.Fatalf("update: %d %v", status, body)
	}
	rat = rotated(t, rat, body)
	status, _, _ = v.call("PUT", reg+"/"+id, rat, map[string]any{"client_id": "other", "grant_types": []string{"client_credentials"}})
	if status != 400 {
		t.Fatalf("client_id mismatch: %d", status)
	}
	status, body, _ = v.call("PUT", reg+"/"+id, rat, map[string]any{"client_id": id, "client_secret": "wrong", "grant_types": []string{"client_credentials"}})
	if status != 400 || body["error"] != "invalid_client_metadata" {
		t.Fatalf("wrong secret: %d %v", status, body)
	}
	status, _, _ = v.call("DELETE", reg+"/"+id, rat, nil)
	if status != 204 {
		t.Fatalf("delete: %d", status)
	}
	status, body, _ = v.call("GET", reg+"/"+id, rat, nil)
	if status != 401 || body["error"] != "invalid_token" {
		t.Fatalf("after delete: %d %v", status, body)
	}
}

func TestRegisterAuthorization(t *testing.T) {
	v := setup(t)
	ok := map[string]any{"grant_types": []string{"client_credentials"}}
	cases := []struct {
		name, token string
	}{
		{"garbage", "nope"},
		{"unknown lki", "lki_" + strings.Repeat("A", 43)},
		{"admin-style token", "lkr_" + strings.Repeat("A", 43)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body, h := v.call("POST", reg, tc.token, ok)
			if status != 401 || body["error"] != "invalid_token" ||
				!strings.HasPrefix(h.Get("WWW-Authenticate"), `Bearer realm="`+v.srv.URL+`/w/default", error="invalid_token"`) {
				t.Fatalf("%d %v %v", status, body, h)
			}
		})
	}
	// RFC 6750 §3.1: a request without credentials gets the challenge
	// alone, no error code; so do the RFC 7592 endpoints.
	for _, m := range []string{"POST", "GET", "PUT", "DELETE"} {
		path := reg
		if m != "POST" {
			path += "/some-client"
		}
		status, body, h := v.call(m, path, "", ok)
		if status != 401 || body != nil || h.Get("WWW-Authenticate") != `Bearer realm="`+v.srv.URL+`/w/default"` ||
			h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s without a token: %d %v %v", m, path, status, body, h)
		}
	}
	tok := v.iat(1)
	if status, _, _ := v.call("POST", reg, tok, ok); status != 201 {
		t.Fatalf("first use: %d", status)
	}
	if status, _, _ := v.call("POST", reg, tok, ok); status != 401 {
		t.Fatalf("single-use token reused: %d", status)
	}
	// Tokens of one workspace do not work in another (J3).
	if _, err := v.e.Service.CreateWorkspace(context.Background(), service.WorkspaceInput{ID: "other", Name: "O"}); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := v.call("POST", "/w/other/oauth2/register", v.iat(5), ok); status != 401 {
		t.Fatalf("cross-workspace iat: %d", status)
	}
	if status, _, _ := v.call("POST", "/w/missing/oauth2/register", v.iat(5), ok); status != 404 {
		t.Fatalf("unknown workspace: %d", status)
	}
}

func TestRegisterValidation(t *testing.T) {
	v := setup(t)
	tok := v.iat(0)
	cases := []struct {
		name string
		body any
		code string
	}{
		{"E3 javascript redirect", map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}, "invalid_redirect_uri"},
		{"E3 http redirect", map[string]any{"redirect_uris": []string{"http://app.example/cb"}}, "invalid_redirect_uri"},
		{"default grant needs redirect", map[string]any{}, "invalid_redirect_uri"},
		{"unknown scope", map[string]any{"grant_types": []string{"client_credentials"}, "scope": "admin"}, "invalid_client_metadata"},
		{"D6 public client_credentials", map[string]any{"grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "none"}, "invalid_client_metadata"},
		{"L1 http jwks_uri", map[string]any{"grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "http://keys.example/jwks"}, "invalid_client_metadata"},
		{"A15 symmetric jwk", map[string]any{"grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "private_key_jwt", "jwks": map[string]any{"keys": []any{map[string]any{"kty": "oct", "k": "AAAA"}}}}, "invalid_client_metadata"},
		{"logo not https", map[string]any{"grant_types": []string{"client_credentials"}, "logo_uri": "javascript:alert(1)"}, "invalid_client_metadata"},
		{"bad contact", map[string]any{"grant_types": []string{"client_credentials"}, "contacts": []string{"x"}}, "invalid_client_metadata"},
		{"wrong type", map[string]any{"redirect_uris": "https://a.example/cb"}, "invalid_client_metadata"},
		{"not an object", `[1]`, "invalid_client_metadata"},
		{"malformed", `{"a":`, "invalid_client_metadata"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := v.call("POST", reg, tok, tc.body)
			if status != 400 || body["error"] != tc.code || body["error_description"] == "" {
				t.Fatalf("want 400 %s, got %d %v", tc.code, status, body)
			}
		})
	}
	big := `{"client_name":"` + strings.Repeat("a", 300<<10) + `"}`
	if status, _, _ := v.call("POST", reg, tok, big); status != 413 {
		t.Fatalf("oversized body: %d", status)
	}
}

func TestRegisterPublicAuthorizationCodeClient(t *testing.T) {
	v := setup(t)
	status, body, _ := v.call("POST", reg, v.iat(1), map[string]any{
		"redirect_uris": []string{"http://127.0.0.1:8765/cb"}, "token_endpoint_auth_method": "none",
	})
	if status != 201 || body["client_secret"] != nil || body["client_secret_expires_at"] != nil {
		t.Fatalf("%d %v", status, body)
	}
	if rt := body["response_types"].([]any); len(rt) != 1 || rt[0] != "code" {
		t.Fatalf("defaults: %v", body)
	}
}

// TestManagementTokenChecks: RFC 7592 §2.1 — wrong or foreign tokens and
// admin-created clients all answer 401 invalid_token.
func TestManagementTokenChecks(t *testing.T) {
	v := setup(t)
	ok := map[string]any{"grant_types": []string{"client_credentials"}}
	_, a, _ := v.call("POST", reg, v.iat(1), ok)
	_, b, _ := v.call("POST", reg, v.iat(1), ok)
	admin, err := v.e.Service.CreateClient(context.Background(), "default", service.ClientInput{Name: "admin-made"})
	if err != nil {
		t.Fatal(err)
	}
	aID, aRAT, bRAT := a["client_id"].(string), a["registration_access_token"].(string), b["registration_access_token"].(string)
	for name, c := range map[string][2]string{
		"blank token":       {aID, " "},
		"other client's":    {aID, bRAT},
		"tampered":          {aID, aRAT + "x"},
		"unknown client":    {"nope", aRAT},
		"admin-made client": {admin.ID, aRAT},
	} {
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			var body any
			if m == "PUT" {
				body = map[string]any{"client_id": c[0]}
			}
			if status, resp, _ := v.call(m, reg+"/"+c[0], c[1], body); status != 401 || resp["error"] != "invalid_token" {
				t.Errorf("%s %s: %d %v", name, m, status, resp)
			}
		}
	}
}

func (v *env) iatPolicy(uses int, p storage.RegistrationPolicy) string {
	v.t.Helper()
	_, tok, err := v.e.Service.CreateInitialAccessToken(context.Background(), "default",
		service.InitialAccessTokenInput{MaxUses: uses, ExpiresIn: time.Hour, Policy: p})
	if err != nil {
		v.t.Fatal(err)
	}
	return tok
}

// TestRegisterOutsidePolicy: docs/security.md R2 — a registration asking
// for more than its initial access token's policy allows is refused with
// 400 and the error naming the metadata field (RFC 7591 §3.2.2).
func TestRegisterOutsidePolicy(t *testing.T) {
	v := setup(t)
	narrow := v.iatPolicy(0, storage.RegistrationPolicy{
		GrantTypes: []string{"client_credentials", "authorization_code"}, Scopes: []string{"read"},
		AuthMethods: []string{"client_secret_basic", "none"}, ApplicationTypes: []string{"web"},
		RedirectURIPatterns: []string{"https://app.example/cb/", "https://app.example/exact"},
	})
	def := v.iat(0)
	jwks := map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256",
		"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}}
	cc := func(extra map[string]any) map[string]any {
		m := map[string]any{"grant_types": []string{"client_credentials"}}
		for k, x := range extra {
			m[k] = x
		}
		return m
	}
	cases := []struct {
		name, token string
		body        map[string]any
		code, field string
	}{
		{"jwt bearer with default token", def, map[string]any{"grant_types": []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"},
			"token_endpoint_auth_method": "private_key_jwt", "jwks": jwks}, "invalid_client_metadata", "grant_types"},
		{"grant type", narrow, map[string]any{"grant_types": []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"},
			"token_endpoint_auth_method": "private_key_jwt", "jwks": jwks}, "invalid_client_metadata", "grant_types"},
		{"refresh token not listed", narrow, map[string]any{"grant_types": []string{"authorization_code", "refresh_token"},
			"redirect_uris": []string{"https://app.example/cb/x"}}, "invalid_client_metadata", "grant_types"},
		{"scope", narrow, cc(map[string]any{"scope": "read write"}), "invalid_client_metadata", "scope"},
		{"auth method", narrow, cc(map[string]any{"token_endpoint_auth_method": "client_secret_post"}), "invalid_client_metadata", "token_endpoint_auth_method"},
		{"application type", narrow, cc(map[string]any{"application_type": "native"}), "invalid_client_metadata", "application_type"},
		{"unknown application type", def, cc(map[string]any{"application_type": "desktop"}), "invalid_client_metadata", "application_type"},
		{"redirect host", narrow, map[string]any{"redirect_uris": []string{"https://evil.example/cb/x"}}, "invalid_redirect_uri", "redirect_uris[0]"},
		{"redirect outside prefix", narrow, map[string]any{"redirect_uris": []string{"https://app.example/cbx"}}, "invalid_redirect_uri", "redirect_uris[0]"},
		{"redirect dot segments", narrow, map[string]any{"redirect_uris": []string{"https://app.example/cb/../admin"}}, "invalid_redirect_uri", "redirect_uris[0]"},
		{"redirect encoded slash", narrow, map[string]any{"redirect_uris": []string{"https://app.example/cb/..%2fadmin"}}, "invalid_redirect_uri", "redirect_uris[0]"},
		{"redirect below exact", narrow, map[string]any{"redirect_uris": []string{"https://app.example/exact/more"}}, "invalid_redirect_uri", "redirect_uris[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := v.call("POST", reg, tc.token, tc.body)
			desc, _ := body["error_description"].(string)
			if status != 400 || body["error"] != tc.code || !strings.HasPrefix(desc, tc.field+":") {
				t.Fatalf("want 400 %s naming %s, got %d %v", tc.code, tc.field, status, body)
			}
		})
	}
	// Inside the policy: accepted.
	for name, body := range map[string]map[string]any{
		"prefix redirect": {"redirect_uris": []string{"https://app.example/cb/one?x=1"}, "scope": "read"},
		"exact redirect":  {"redirect_uris": []string{"https://APP.example/exact"}, "application_type": "web"},
		"client creds":    cc(map[string]any{"scope": "read"}),
	} {
		if status, resp, _ := v.call("POST", reg, narrow, body); status != 201 {
			t.Errorf("%s: %d %v", name, status, resp)
		}
	}
}

// TestUpdateCannotWidenPolicy: docs/security.md R2 — RFC 7592 updates are
// checked against the snapshot of the registration's policy, also after
// the initial access token is deleted.
func TestUpdateCannotWidenPolicy(t *testing.T) {
	v := setup(t)
	tok := v.iatPolicy(1, storage.RegistrationPolicy{GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}})
	status, b, _ := v.call("POST", reg, tok, map[string]any{"grant_types": []string{"client_credentials"}, "scope": "read"})
	if status != 201 {
		t.Fatalf("register: %d %v", status, b)
	}
	id, rat := b["client_id"].(string), b["registration_access_token"].(string)
	list, err := v.e.Service.ListInitialAccessTokens(context.Background(), "default")
	if err != nil || len(list) != 1 {
		t.Fatalf("tokens: %v %v", list, err)
	}
	if err := v.e.Service.DeleteInitialAccessToken(context.Background(), "default", list[0].ID); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, field string
		body        map[string]any
	}{
		{"wider scope", "scope", map[string]any{"grant_types": []string{"client_credentials"}, "scope": "read write"}},
		{"jwt bearer", "grant_types", map[string]any{"grant_types": []string{"client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
			"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://keys.example/jwks"}},
		{"authorization code", "grant_types", map[string]any{"grant_types": []string{"authorization_code"},
			"redirect_uris": []string{"https://app.example/cb"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.body["client_id"] = id
			status, body, _ := v.call("PUT", reg+"/"+id, rat, tc.body)
			desc, _ := body["error_description"].(string)
			if status != 400 || body["error"] != "invalid_client_metadata" || !strings.HasPrefix(desc, tc.field+":") {
				t.Fatalf("want 400 invalid_client_metadata naming %s, got %d %v", tc.field, status, body)
			}
		})
	}
	c, err := v.e.Service.GetClient(context.Background(), "default", id)
	if err != nil || strings.Join(c.Scopes, " ") != "read" || strings.Join(c.GrantTypes, " ") != "client_credentials" ||
		c.InitialAccessTokenID != list[0].ID {
		t.Fatalf("client changed: %+v %v", c, err)
	}
	status, body, _ := v.call("PUT", reg+"/"+id, rat, map[string]any{"client_id": id, "client_name": "Renamed",
		"grant_types": []string{"client_credentials"}, "scope": "read"})
	if status != 200 || body["client_name"] != "Renamed" {
		t.Fatalf("update inside the policy: %d %v", status, body)
	}
}

// TestFailedRegistrationKeepsToken: docs/security.md R3 — malformed,
// invalid and refused registrations leave a one-use token unspent; only
// the successful one spends it.
func TestFailedRegistrationKeepsToken(t *testing.T) {
	v := setup(t)
	tok := v.iat(1)
	for name, body := range map[string]any{
		"malformed JSON":   `{"grant_types":`,
		"not an object":    `[]`,
		"invalid metadata": map[string]any{"grant_types": []string{"client_credentials"}, "scope": "nope"},
		"outside policy":   map[string]any{"grant_types": []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"}},
		"bad redirect":     map[string]any{"redirect_uris": []string{"javascript:alert(1)"}},
	} {
		if status, resp, _ := v.call("POST", reg, tok, body); status != 400 {
			t.Fatalf("%s: want 400, got %d %v", name, status, resp)
		}
	}
	ok := map[string]any{"grant_types": []string{"client_credentials"}}
	if status, resp, _ := v.call("POST", reg, tok, ok); status != 201 {
		t.Fatalf("token spent by failed registrations: %d %v", status, resp)
	}
	if status, resp, _ := v.call("POST", reg, tok, ok); status != 401 || resp["error"] != "invalid_token" {
		t.Fatalf("second use of a one-use token: %d %v", status, resp)
	}
}

// TestConcurrentRegistrationsOneUse: docs/security.md R3 — of many
// concurrent registrations with a one-use token exactly one gets 201; the
// others 401 invalid_token.
func TestConcurrentRegistrationsOneUse(t *testing.T) {
	v := setup(t)
	tok := v.iat(1)
	const n = 12
	statuses := make(chan string, n)
	for range n {
		go func() {
			status, body, _ := v.call("POST", reg, tok, map[string]any{"grant_types": []string{"client_credentials"}})
			statuses <- fmt.Sprintf("%d %v", status, body["error"])
		}()
	}
	created := 0
	for range n {
		switch s := <-statuses; s {
		case "201 <nil>":
			created++
		case "401 invalid_token":
		default:
			t.Errorf("unexpected answer %s", s)
		}
	}
	if created != 1 {
		t.Fatalf("%d registrations succeeded with a one-use token, want 1", created)
	}
}
