package adminapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
)

// TestClientApplicationType: application_type through the admin API:
// defaults on create, the rules as 400s naming the field, require_pkce
// false refused for public clients, and the inferred type of a client
// stored before types.
func TestClientApplicationType(t *testing.T) {
	a := newAPI(t)
	r := a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "cli", "name": "CLI", "application_type": "native",
		"redirect_uris": []string{"http://127.0.0.1/cb", "com.example.cli:/cb"}}), 201)
	if r.body["application_type"] != "native" || r.body["type"] != "public" || r.body["token_endpoint_auth_method"] != "none" {
		t.Fatalf("native defaults: %s", r.raw)
	}
	r = a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "m2m", "name": "M2M", "application_type": "service"}), 201)
	if r.body["application_type"] != "service" || r.body["grant_types"].([]any)[0] != "client_credentials" {
		t.Fatalf("service defaults: %s", r.raw)
	}
	for _, tc := range []struct {
		name, field string
		body        map[string]any
		path        string
	}{
		{"unknown type", "application_type", map[string]any{"name": "x", "application_type": "desktop"}, "/clients"},
		{"service with redirect", "redirect_uris", map[string]any{"name": "x", "application_type": "service",
			"redirect_uris": []string{"https://app.example/cb"}}, "/clients"},
		{"spa confidential", "type", map[string]any{"name": "x", "application_type": "spa", "type": "confidential",
			"redirect_uris": []string{"https://app.example/cb"}}, "/clients"},
		{"public pkce off", "require_pkce", map[string]any{"name": "x", "type": "public",
			"redirect_uris": []string{"https://app.example/cb"}, "require_pkce": false}, "/clients"},
	} {
		r := a.want(a.do("POST", ws+tc.path, tc.body), 400)
		if !strings.Contains(string(r.raw), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: want an error naming %s, got %s", tc.name, tc.field, r.raw)
		}
	}
	r = a.want(a.do("PATCH", ws+"/clients/cli", map[string]any{"require_pkce": false}), 400)
	if !strings.Contains(string(r.raw), `"field":"require_pkce"`) {
		t.Fatalf("patch require_pkce false: %s", r.raw)
	}
	// A client stored before application types: inferred, and editable.
	if err := a.env.Store.CreateClient(context.Background(), storage.Client{WorkspaceID: "default", ID: "old", Name: "Old",
		Enabled: true, Type: "confidential", GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: "client_secret_basic"}); err != nil {
		t.Fatal(err)
	}
	r = a.want(a.do("GET", ws+"/clients/old", nil), 200)
	if r.body["application_type"] != "service" {
		t.Fatalf("inferred: %s", r.raw)
	}
	r = a.want(a.do("PATCH", ws+"/clients/old", map[string]any{"application_type": "web"}), 200)
	if r.body["application_type"] != "web" {
		t.Fatalf("set: %s", r.raw)
	}
	// A public client stored with require_pkce false (once accepted and
	// ignored) is shown as requiring PKCE, which it always did.
	off := false
	if err := a.env.Store.CreateClient(context.Background(), storage.Client{WorkspaceID: "default", ID: "old-public", Name: "Old",
		Enabled: true, Type: "public", RequirePKCE: &off, GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
		RedirectURIs: []string{"https://app.example/cb"}, TokenEndpointAuthMethod: "none"}); err != nil {
		t.Fatal(err)
	}
	r = a.want(a.do("GET", ws+"/clients/old-public", nil), 200)
	if r.body["require_pkce"] != true || r.body["application_type"] != "spa" {
		t.Fatalf("legacy public client: %s", r.raw)
	}
}

// TestWhatIfSeesSignIn: the what-if tool evaluates user.authentication as
// a password sign-in now for the code flow, and as no sign-in for the
// JWT bearer grant, as the endpoints do.
func TestWhatIfSeesSignIn(t *testing.T) {
	a := newAPI(t)
	a.env.Service.WhatIfRunner = &grants.Handler{Store: a.env.Store, BaseURL: "http://lk.test",
		Policies: &policy.Engine{Source: a.env.Store}, AuthCode: grants.AuthCodeDeps{Subjects: &oidc.Subjects{Store: a.env.Store}}}
	a.want(a.do("POST", ws+"/users", map[string]any{"id": "u1", "username": "alice", "email": "alice@example.com", "active": true}), 201)
	a.want(a.do("POST", ws+"/policies", map[string]any{"id": "signed-in", "name": "Signed in", "kind": "user", "rules": []map[string]any{
		{"condition": `"pwd" in user.authentication.methods && int(user.authentication.time) > 0`, "outcome": "allow"},
		{"condition": "true", "outcome": "deny", "message": "sign in first"}}}), 201)
	a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "web", "name": "Web", "application_type": "web",
		"redirect_uris": []string{"https://web.example/cb"}}), 201)
	a.want(a.do("PUT", ws+"/default-user-policy", map[string]any{"policy_id": "signed-in"}), 200)
	r := a.want(a.do("POST", ws+"/policies/what-if", map[string]any{"client_id": "web", "user_id": "u1", "scopes": []string{"openid"}}), 200)
	if r.body["allowed"] != true {
		t.Fatalf("code flow: %s", r.raw)
	}
	// The JWT bearer grant asks the pre-authorization first: everyone, so
	// that the user policy decides.
	a.want(a.do("PUT", ws+"/clients/web/jwt-bearer", map[string]any{"pre_auth": "all_users"}), 200)
	r = a.want(a.do("POST", ws+"/policies/what-if", map[string]any{"client_id": "web", "user_id": "u1",
		"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"}), 200)
	if r.body["allowed"] != false || r.body["error_description"] != "sign in first" {
		t.Fatalf("jwt bearer: %s", r.raw)
	}
}
