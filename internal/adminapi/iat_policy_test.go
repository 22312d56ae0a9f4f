package adminapi_test

import (
	"strings"
	"testing"
)

// TestInitialAccessTokenPolicy: docs/security.md R2 — a new token's
// policy defaults to the narrow one; the admin API sets and shows every
// field; an impersonating grant needs allow_impersonation.
func TestInitialAccessTokenPolicy(t *testing.T) {
	a := newAPI(t)
	a.want(a.do("POST", "/admin/v1/workspaces/default/services", map[string]any{"id": "api", "name": "API",
		"identifier": "https://api.example", "scopes": []map[string]any{{"name": "read"}}}), 201)
	r := a.want(a.do("POST", ws+"/initial-access-tokens", map[string]any{"max_uses": 1}), 201)
	p := r.body["policy"].(map[string]any)
	if g := p["grant_types"].([]any); len(g) != 3 || g[0] != "client_credentials" || g[1] != "authorization_code" ||
		g[2] != "refresh_token" || p["allow_impersonation"] != false || len(p["scopes"].([]any)) != 0 {
		t.Fatalf("default policy: %s", r.raw)
	}
	policy := map[string]any{
		"grant_types": []string{"authorization_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, "scopes": []string{"read"},
		"auth_methods": []string{"private_key_jwt"}, "application_types": []string{"native"},
		"redirect_uri_patterns": []string{"https://app.example/cb/"}, "allow_impersonation": true,
	}
	r = a.want(a.do("POST", ws+"/initial-access-tokens", map[string]any{"policy": policy}), 201)
	r = a.want(a.do("GET", ws+"/initial-access-tokens", nil), 200)
	if !strings.Contains(string(r.raw), `"redirect_uri_patterns":["https://app.example/cb/"]`) ||
		!strings.Contains(string(r.raw), `"allow_impersonation":true`) {
		t.Fatalf("list does not show the policy: %s", r.raw)
	}
	cases := []struct {
		name, field string
		policy      map[string]any
	}{
		{"impersonation not allowed", "grant_types", map[string]any{"grant_types": []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"}}},
		{"unknown grant", "grant_types[0]", map[string]any{"grant_types": []string{"password"}}},
		{"unknown scope", "scopes[0]", map[string]any{"scopes": []string{"admin"}}},
		{"unknown auth method", "auth_methods[0]", map[string]any{"auth_methods": []string{"client_secret_magic"}}},
		{"unknown application type", "application_types[0]", map[string]any{"application_types": []string{"desktop"}}},
		{"wildcard pattern", "redirect_uri_patterns[0]", map[string]any{"redirect_uri_patterns": []string{"https://*.example/cb"}}},
		{"relative pattern", "redirect_uri_patterns[0]", map[string]any{"redirect_uri_patterns": []string{"/cb"}}},
		{"pattern with query", "redirect_uri_patterns[0]", map[string]any{"redirect_uri_patterns": []string{"https://a.example/cb?x=1"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.want(a.do("POST", ws+"/initial-access-tokens", map[string]any{"policy": tc.policy}), 400)
			if !strings.Contains(string(r.raw), `"field":"`+tc.field+`"`) {
				t.Fatalf("error does not name %s: %s", tc.field, r.raw)
			}
		})
	}
}
