package adminapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/adminapi"
	"github.com/latchkey/latchkey/internal/service/servicetest"
	"github.com/latchkey/latchkey/internal/storage"
)

const adminToken = "test-admin-token"

type api struct {
	t   testing.TB
	srv *httptest.Server
	env *servicetest.Env
}

func newAPI(t testing.TB) *api {
	t.Helper()
	env := servicetest.New(t)
	mux := http.NewServeMux()
	h := &adminapi.Handler{Service: env.Service, Auth: adminapi.Auth{Static: adminToken, Store: env.Store}, BaseURL: "http://lk.test"}
	h.Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &api{t: t, srv: srv, env: env}
}

type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (a *api) do(method, path string, body any) resp {
	return a.doAuth(method, path, body, "Bearer "+adminToken)
}

func (a *api) doAuth(method, path string, body any, auth string) resp {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, a.srv.URL+path, rd)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (a *api) want(r resp, status int) resp {
	a.t.Helper()
	if r.status != status {
		a.t.Fatalf("want %d, got %d: %s", status, r.status, r.raw)
	}
	return r
}

const ws = "/admin/v1/workspaces/default"

func (a *api) seedService() {
	a.want(a.do("POST", ws+"/services", map[string]any{
		"id": "api", "name": "API", "identifier": "https://api.example",
		"scopes": []map[string]string{{"name": "read", "description": "Read"}, {"name": "write"}},
	}), 201)
}

func TestAuth(t *testing.T) {
	a := newAPI(t)
	// Hashed admin token from storage.
	sum := sha256.Sum256([]byte("stored-token"))
	if err := a.env.Store.CreateAdminToken(context.Background(), storage.AdminToken{ID: "t1", Name: "ci", Hash: sum[:], CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, auth string
		status     int
	}{
		{"none", "", 401},
		{"wrong", "Bearer nope", 401},
		{"basic scheme", "Basic " + adminToken, 401},
		{"prefix of token", "Bearer " + adminToken[:5], 401},
		{"too long", "Bearer " + strings.Repeat("a", 2000), 401},
		{"static", "Bearer " + adminToken, 200},
		{"scheme case-insensitive", "bearer " + adminToken, 200},
		{"stored hash", "Bearer stored-token", 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.doAuth("GET", "/admin/v1/workspaces", nil, tc.auth)
			if r.status != tc.status {
				t.Fatalf("want %d got %d", tc.status, r.status)
			}
			if tc.status == 401 && (r.body["error"] != "invalid_token" || r.header.Get("WWW-Authenticate") == "") {
				t.Fatalf("401 body/header: %s %v", r.raw, r.header)
			}
		})
	}
	// Every protected route answers 401 without a token (O4).
	for _, p := range []string{"GET " + ws, "POST " + ws + "/clients", "DELETE " + ws + "/keys/x", "POST " + ws + "/clients/x/secret"} {
		m, path, _ := strings.Cut(p, " ")
		if r := a.doAuth(m, path, nil, ""); r.status != 401 {
			t.Errorf("%s without token: %d", p, r.status)
		}
	}
}

func TestWorkspaceRoutes(t *testing.T) {
	a := newAPI(t)
	r := a.want(a.do("POST", "/admin/v1/workspaces", map[string]any{
		"id": "acme", "name": "Acme", "settings": map[string]any{"access_token_ttl": 600, "signing_alg": "ES256"},
	}), 201)
	if r.body["issuer"] != "http://lk.test/w/acme" || r.body["settings"].(map[string]any)["access_token_ttl"] != 600.0 {
		t.Fatalf("create: %s", r.raw)
	}
	a.want(a.do("GET", "/admin/v1/workspaces/acme", nil), 200)
	r = a.want(a.do("PATCH", "/admin/v1/workspaces/acme", map[string]any{"name": "Acme Corp", "settings": map[string]any{"access_token_ttl": 120}}), 200)
	if r.body["name"] != "Acme Corp" || r.body["settings"].(map[string]any)["signing_alg"] != "ES256" {
		t.Fatalf("patch keeps other fields: %s", r.raw)
	}
	r = a.want(a.do("PATCH", "/admin/v1/workspaces/acme", map[string]any{"settings": map[string]any{"access_token_ttl": 1}}), 400)
	if errs := r.body["errors"].([]any); errs[0].(map[string]any)["field"] != "settings.access_token_ttl" {
		t.Fatalf("errors: %s", r.raw)
	}
	// Overflowing seconds must not wrap into the valid range.
	a.want(a.do("PATCH", "/admin/v1/workspaces/acme", `{"settings":{"access_token_ttl":9223372036854775807}}`), 400)
	a.want(a.do("POST", "/admin/v1/workspaces", map[string]any{"id": "acme", "name": "x"}), 409)
	r = a.want(a.do("GET", "/admin/v1/workspaces?limit=1", nil), 200)
	if len(r.body["items"].([]any)) != 1 || r.body["next_page_token"] == nil {
		t.Fatalf("pagination: %s", r.raw)
	}
	next := r.body["next_page_token"].(string)
	r = a.want(a.do("GET", "/admin/v1/workspaces?limit=1&page_token="+next, nil), 200)
	if r.body["items"].([]any)[0].(map[string]any)["id"] != "default" {
		t.Fatalf("page 2: %s", r.raw)
	}
	a.want(a.do("DELETE", "/admin/v1/workspaces/acme", nil), 204)
	a.want(a.do("GET", "/admin/v1/workspaces/acme", nil), 404)
	r = a.want(a.do("DELETE", "/admin/v1/workspaces/default", nil), 409)
	if !strings.Contains(r.body["error_description"].(string), "last workspace") {
		t.Fatalf("last workspace: %s", r.raw)
	}
}

func TestServiceRoutes(t *testing.T) {
	a := newAPI(t)
	a.seedService()
	r := a.want(a.do("GET", ws+"/services/api", nil), 200)
	if len(r.body["scopes"].([]any)) != 2 {
		t.Fatalf("%s", r.raw)
	}
	r = a.want(a.do("PATCH", ws+"/services/api", map[string]any{"description": "d"}), 200)
	if r.body["description"] != "d" || len(r.body["scopes"].([]any)) != 2 {
		t.Fatalf("%s", r.raw)
	}
	a.want(a.do("POST", ws+"/services", map[string]any{"name": "B", "identifier": "https://b", "scopes": []map[string]string{{"name": "read"}}}), 409)
	a.want(a.do("GET", ws+"/services", nil), 200)
	a.want(a.do("DELETE", ws+"/services/api", nil), 204)
	a.want(a.do("DELETE", ws+"/services/api", nil), 404)
}

func TestClientRoutes(t *testing.T) {
	a := newAPI(t)
	a.seedService()
	r := a.want(a.do("POST", ws+"/clients", map[string]any{
		"name": "Backend", "scopes": []string{"read"}, "contact_email": "ops@example.com",
		"metadata": map[string]string{"team": "core"}, "access_token_ttl": 300,
	}), 201)
	id, secret := r.body["client_id"].(string), r.body["client_secret"].(string)
	if len(secret) != 43 || r.body["type"] != "confidential" || r.body["access_token_ttl"] != 300.0 {
		t.Fatalf("create: %s", r.raw)
	}
	base := ws + "/clients/" + url.PathEscape(id)
	r = a.want(a.do("GET", base, nil), 200)
	if _, ok := r.body["client_secret"]; ok || strings.Contains(string(r.raw), secret) {
		t.Fatal("GET must never return the secret (SECURITY.md D3)")
	}
	r = a.want(a.do("GET", ws+"/clients", nil), 200)
	if strings.Contains(string(r.raw), secret) || strings.Contains(string(r.raw), "secret_enc") {
		t.Fatal("list must never return the secret")
	}
	r = a.want(a.do("PATCH", base, map[string]any{"description": "x"}), 200)
	if r.body["description"] != "x" || r.body["name"] != "Backend" || r.body["client_secret"] != nil {
		t.Fatalf("patch: %s", r.raw)
	}
	a.want(a.do("PATCH", base, map[string]any{"client_id": "other"}), 400)
	r = a.want(a.do("POST", base+"/disable", nil), 200)
	if r.body["enabled"] != false {
		t.Fatal("disable")
	}
	r = a.want(a.do("POST", base+"/enable", nil), 200)
	if r.body["enabled"] != true {
		t.Fatal("enable")
	}
	r = a.want(a.do("POST", base+"/secret", nil), 200)
	if s, _ := r.body["client_secret"].(string); s == "" || s == secret {
		t.Fatalf("rotate: %s", r.raw)
	}
	a.want(a.do("DELETE", base, nil), 204)
	a.want(a.do("GET", base, nil), 404)
}

func TestClientValidationMessages(t *testing.T) {
	a := newAPI(t)
	a.seedService()
	r := a.want(a.do("POST", ws+"/clients", map[string]any{
		"name": "Web", "grant_types": []string{"authorization_code"},
		"redirect_uris": []string{"https://app.example/cb", "http://app.example/cb", "javascript:alert(1)"},
		"scopes":        []string{"nope"},
	}), 400)
	if r.body["error"] != "invalid_request" {
		t.Fatalf("%s", r.raw)
	}
	msgs := map[string]string{}
	for _, e := range r.body["errors"].([]any) {
		m := e.(map[string]any)
		msgs[m["field"].(string)] = m["message"].(string)
	}
	if msgs["redirect_uris[1]"] != "redirect_uris[1]: must use https (or http on a loopback address)" ||
		msgs["redirect_uris[2]"] == "" || msgs["scopes[0]"] == "" {
		t.Fatalf("every problem is reported with field and rule: %v", msgs)
	}
	// D6: public clients cannot use client_credentials.
	a.want(a.do("POST", ws+"/clients", map[string]any{"name": "SPA", "type": "public", "grant_types": []string{"client_credentials"}}), 400)
	// A15 at the API: weak keys are refused.
	a.want(a.do("POST", ws+"/clients", `{"name":"k","jwks":{"keys":[{"kty":"oct","k":"AAAA"}]}}`), 400)
}

// TestCrossWorkspace404 covers SECURITY.md O1: objects of another
// workspace answer 404 on every route, like missing ones.
func TestCrossWorkspace404(t *testing.T) {
	a := newAPI(t)
	a.seedService()
	a.want(a.do("POST", "/admin/v1/workspaces", map[string]any{"id": "b", "name": "B"}), 201)
	r := a.want(a.do("POST", ws+"/clients", map[string]any{"name": "A client"}), 201)
	id := r.body["client_id"].(string)
	tok := a.want(a.do("POST", ws+"/initial-access-tokens", map[string]any{"max_uses": 1}), 201).body["id"].(string)
	keys := a.want(a.do("GET", ws+"/keys", nil), 200).body["items"].([]any)
	kid := keys[0].(map[string]any)["kid"].(string)
	other := "/admin/v1/workspaces/b"
	for _, p := range []string{
		"GET /clients/" + id, "PATCH /clients/" + id, "DELETE /clients/" + id,
		"POST /clients/" + id + "/enable", "POST /clients/" + id + "/disable", "POST /clients/" + id + "/secret",
		"GET /services/api", "PATCH /services/api", "DELETE /services/api",
		"DELETE /keys/" + kid, "DELETE /initial-access-tokens/" + tok,
	} {
		m, path, _ := strings.Cut(p, " ")
		var body any
		if m == "PATCH" {
			body = map[string]any{"name": "pwned"}
		}
		if r := a.do(m, other+path, body); r.status != 404 {
			t.Errorf("%s in workspace b: want 404, got %d %s", p, r.status, r.raw)
		}
	}
	a.want(a.do("GET", ws+"/clients/"+id, nil), 200)
	for _, p := range []string{"/clients", "/services", "/keys", "/initial-access-tokens"} {
		a.want(a.do("GET", "/admin/v1/workspaces/nope"+p, nil), 404)
	}
}

// TestRequestHygiene covers SECURITY.md M5.
func TestRequestHygiene(t *testing.T) {
	a := newAPI(t)
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	cases := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"too large", `{"name":"` + strings.Repeat("a", 2<<20) + `"}`, 413, "request_too_large"},
		{"too deep", `{"name":"x","metadata":` + deep + `}`, 400, "nested"},
		{"unknown field", `{"name":"x","admin":true}`, 400, `unknown field 'admin': the request may only carry the documented members`},
		{"wrong type", `{"name":123}`, 400, "name: must be a string"},
		{"trailing data", `{"name":"x"} {}`, 400, "single JSON object"},
		{"not json", `name=x`, 400, "malformed"},
		{"empty", ``, 400, "JSON object"},
		{"array", `[]`, 400, "JSON object"},
		{"too many redirect uris", `{"name":"x","redirect_uris":[` + strings.TrimSuffix(strings.Repeat(`"https://a.example/cb",`, 10000), ",") + `]}`, 400, "at most 100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do("POST", ws+"/clients", tc.body)
			if r.status != tc.status || !strings.Contains(string(r.raw), tc.want) {
				t.Fatalf("want %d %q, got %d %s", tc.status, tc.want, r.status, truncate(r.raw))
			}
		})
	}
	req, _ := http.NewRequest("POST", a.srv.URL+ws+"/clients", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "text/plain")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 415 {
		t.Fatalf("content type: %d", res.StatusCode)
	}
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300])
	}
	return string(b)
}

// TestPageTokens covers SECURITY.md M8: page tokens are sealed and bound to
// their list; anything else is a 400.
func TestPageTokens(t *testing.T) {
	a := newAPI(t)
	for _, n := range []string{"c1", "c2", "c3"} {
		a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": n, "name": n}), 201)
	}
	r := a.want(a.do("GET", ws+"/clients?limit=2", nil), 200)
	tok := r.body["next_page_token"].(string)
	r = a.want(a.do("GET", ws+"/clients?limit=2&page_token="+tok, nil), 200)
	items := r.body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["client_id"] != "c3" || r.body["next_page_token"] != nil {
		t.Fatalf("page 2: %s", r.raw)
	}
	flipped := []byte(tok)
	flipped[len(flipped)/2] ^= 1
	for name, bad := range map[string]string{
		"tampered":   string(flipped),
		"forged":     "YzI",
		"sqli":       url.QueryEscape("' OR 1=1 --"),
		"too long":   strings.Repeat("A", 5000),
		"padding":    tok + "==",
		"other q":    tok + "&q=c",
		"other ws":   "",
		"bad limit":  "",
		"two limits": "",
		"two tokens": tok + "&page_token=" + tok,
	} {
		path := ws + "/clients?page_token=" + bad
		switch name {
		case "other ws":
			a.want(a.do("POST", "/admin/v1/workspaces", map[string]any{"id": "b", "name": "B"}), 201)
			path = "/admin/v1/workspaces/b/clients?page_token=" + tok
		case "bad limit":
			path = ws + "/clients?limit=100000"
		case "two limits": // which one would apply is not for the server to guess
			path = ws + "/clients?limit=2&limit=3"
		}
		if r := a.do("GET", path, nil); r.status != 400 || r.body["error"] != "invalid_request" {
			t.Errorf("%s: want 400 invalid_request, got %d %s", name, r.status, r.raw)
		}
	}
	r = a.want(a.do("GET", ws+"/clients?q=c2", nil), 200)
	if len(r.body["items"].([]any)) != 1 {
		t.Fatalf("search: %s", r.raw)
	}
}

func TestKeyRoutes(t *testing.T) {
	a := newAPI(t)
	r := a.want(a.do("GET", ws+"/keys", nil), 200)
	if len(r.body["items"].([]any)) != 2 || strings.Contains(string(r.raw), "private") {
		t.Fatalf("keys: %s", r.raw)
	}
	a.want(a.do("POST", ws+"/keys/rotate", map[string]any{"alg": "HS256"}), 400)
	a.want(a.do("POST", ws+"/keys/rotate", map[string]any{"alg": "EdDSA"}), 200)
	r = a.want(a.do("POST", ws+"/keys/rotate", nil), 200)
	items := r.body["items"].([]any)
	var retired, active string
	for _, it := range items {
		k := it.(map[string]any)
		switch k["state"] {
		case "retired":
			retired = k["kid"].(string)
		case "active":
			active = k["kid"].(string)
		}
	}
	a.want(a.do("DELETE", ws+"/keys/"+active, nil), 409)
	a.want(a.do("DELETE", ws+"/keys/"+retired, nil), 204)
	a.want(a.do("DELETE", ws+"/keys/"+retired, nil), 404)
}

func TestInitialAccessTokenRoutes(t *testing.T) {
	a := newAPI(t)
	r := a.want(a.do("POST", ws+"/initial-access-tokens", map[string]any{"description": "ci", "expires_in": 3600, "max_uses": 2}), 201)
	token, id := r.body["token"].(string), r.body["id"].(string)
	if !strings.HasPrefix(token, "lki_") || r.body["uses_left"] != 2.0 || r.body["expires_at"] == nil {
		t.Fatalf("%s", r.raw)
	}
	r = a.want(a.do("GET", ws+"/initial-access-tokens", nil), 200)
	if strings.Contains(string(r.raw), token) || len(r.body["items"].([]any)) != 1 {
		t.Fatalf("list must not reveal the token: %s", r.raw)
	}
	a.want(a.do("POST", ws+"/initial-access-tokens", map[string]any{"max_uses": -1}), 400)
	r = a.want(a.do("POST", ws+"/initial-access-tokens", nil), 201)
	if r.body["uses_left"] != nil {
		t.Fatalf("unlimited: %s", r.raw)
	}
	a.want(a.do("DELETE", ws+"/initial-access-tokens/"+id, nil), 204)
	a.want(a.do("DELETE", ws+"/initial-access-tokens/"+id, nil), 404)
}

// TestOpenAPIMatchesRoutes checks the document describes exactly the
// mounted routes, that every $ref resolves, and that it needs no auth.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	a := newAPI(t)
	r := a.want(a.doAuth("GET", "/admin/v1/openapi.json", nil, ""), 200)
	if r.body["openapi"] != "3.0.3" {
		t.Fatalf("%s", truncate(r.raw))
	}
	documented := map[string]bool{}
	for path, item := range r.body["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			if method != "parameters" {
				documented[strings.ToUpper(method)+" /admin/v1"+path] = true
			}
		}
	}
	for _, p := range adminapi.RoutePatterns() {
		if !documented[p] {
			t.Errorf("route %s is not documented", p)
		}
		delete(documented, p)
	}
	for p := range documented {
		t.Errorf("documented operation %s is not served", p)
	}
	var refs []string
	collectRefs(r.body, &refs)
	comps := r.body["components"].(map[string]any)
	for _, ref := range refs {
		parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
		sec, _ := comps[parts[0]].(map[string]any)
		if sec == nil || sec[parts[1]] == nil {
			t.Errorf("unresolved $ref %s", ref)
		}
	}
}

func collectRefs(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, vv := range x {
			if k == "$ref" {
				*out = append(*out, vv.(string))
			}
			collectRefs(vv, out)
		}
	case []any:
		for _, vv := range x {
			collectRefs(vv, out)
		}
	}
}
