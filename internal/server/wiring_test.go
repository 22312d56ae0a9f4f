package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWiringEndToEnd drives every mounted package once through the real
// server: the admin API (with the configured admin token) creates a
// service and a client, the token endpoint issues a token, introspection
// reports it active, revocation makes it inactive, and the token metrics
// count the issue.
func TestWiringEndToEnd(t *testing.T) {
	admin := strings.Repeat("a", 40)
	r := start(t, testConfig(t, seededDataDir(t), map[string]string{"LATCHKEY_ADMIN_TOKEN": admin}))
	call := func(method, path, contentType, body string, header map[string]string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, r.url(path), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var doc map[string]any
		_ = json.Unmarshal(raw, &doc)
		return resp.StatusCode, doc
	}
	bearer := map[string]string{"Authorization": "Bearer " + admin}
	if code, doc := call("POST", "/admin/v1/workspaces/default/services", "application/json",
		`{"name":"Orders","identifier":"https://orders.example","scopes":[{"name":"orders:read","description":"read"}]}`, bearer); code != 201 {
		t.Fatalf("create service: %d %v", code, doc)
	}
	code, client := call("POST", "/admin/v1/workspaces/default/clients", "application/json",
		`{"name":"svc","type":"confidential","grant_types":["client_credentials"],"scopes":["orders:read"],"token_endpoint_auth_method":"client_secret_basic"}`, bearer)
	if code != 201 || client["client_secret"] == nil {
		t.Fatalf("create client: %d %v", code, client)
	}
	basic := map[string]string{"Authorization": "Basic " + basicAuth(client["client_id"].(string), client["client_secret"].(string))}
	form := "application/x-www-form-urlencoded"
	code, tok := call("POST", "/w/default/oauth2/token", form, "grant_type=client_credentials&scope=orders%3Aread", basic)
	if code != 200 || tok["access_token"] == nil || tok["token_type"] != "Bearer" {
		t.Fatalf("token: %d %v", code, tok)
	}
	at := url.QueryEscape(tok["access_token"].(string))
	if code, in := call("POST", "/w/default/oauth2/introspect", form, "token="+at, basic); code != 200 || in["active"] != true {
		t.Fatalf("introspect: %d %v", code, in)
	}
	if code, _ := call("POST", "/w/default/oauth2/revoke", form, "token="+at, basic); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	if code, in := call("POST", "/w/default/oauth2/introspect", form, "token="+at, basic); code != 200 || in["active"] != false {
		t.Fatalf("introspect after revoke: %d %v", code, in)
	}
	_, metrics := get(t, r.url("/metrics"), nil)
	if !strings.Contains(metrics, `latchkey_tokens_issued_total{grant_type="client_credentials"} 1`) {
		t.Error("token issue not counted in /metrics")
	}
	_, disc := get(t, r.url("/w/default/.well-known/openid-configuration"), nil)
	if !strings.Contains(disc, `"registration_endpoint":"`+r.srv.BaseURL()+`/w/default/oauth2/register"`) {
		t.Errorf("discovery lacks registration_endpoint: %s", disc)
	}
}

func basicAuth(id, secret string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}
