package adminapi_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/policy"
)

// TestPolicyWhatIf: the what-if tool reports each rule's result, the
// decision the token endpoint would answer and the claims it would issue,
// through the token endpoint's own code.
func TestPolicyWhatIf(t *testing.T) {
	a := newAPI(t)
	a.env.Service.WhatIfRunner = &grants.Handler{Store: a.env.Store, BaseURL: "http://lk.test",
		Policies: &policy.Engine{Source: a.env.Store}}
	a.want(a.do("POST", ws+"/policies", map[string]any{"id": "net", "name": "Office network", "kind": "machine",
		"template": "ip-ranges", "params": map[string]string{"cidrs": "10.0.0.0/8"}}), 201)
	a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "app", "name": "App", "grant_types": []string{"client_credentials"}}), 201)
	a.want(a.do("PUT", ws+"/clients/app/policies", map[string]any{"machine_policy_id": "net"}), 200)

	r := a.want(a.do("POST", ws+"/policies/what-if", map[string]any{"client_id": "app", "remote_ip": "192.0.2.1"}), 200)
	if r.body["allowed"] != false || r.body["error"] != "unauthorized_client" ||
		r.body["error_description"] != "this application may only be used from an allowed network" || r.body["access_token"] != nil {
		t.Fatalf("outside the range: %s", r.raw)
	}
	pol := r.body["policies"].([]any)[0].(map[string]any)
	rules := pol["rules"].([]any)
	if pol["policy_id"] != "net" || pol["kind"] != "machine" || pol["rule"] != float64(0) ||
		rules[0].(map[string]any)["result"] != "matched" || rules[1].(map[string]any)["result"] != "not_reached" {
		t.Fatalf("deny trace: %s", r.raw)
	}

	r = a.want(a.do("POST", ws+"/policies/what-if", map[string]any{"client_id": "app", "remote_ip": "10.1.2.3"}), 200)
	pol = r.body["policies"].([]any)[0].(map[string]any)
	rules = pol["rules"].([]any)
	at, _ := r.body["access_token"].(map[string]any)
	if r.body["allowed"] != true || r.body["grant_type"] != "client_credentials" || pol["allow"] != true || pol["rule"] != float64(1) ||
		rules[0].(map[string]any)["result"] != "not_matched" || rules[1].(map[string]any)["result"] != "matched" ||
		at["client_id"] != "app" || at["sub"] != "app" || at["iss"] != "http://lk.test/w/"+strings.TrimPrefix(ws, "/admin/v1/workspaces/") {
		t.Fatalf("allow: %s", r.raw)
	}

	cases := []struct {
		name   string
		body   map[string]any
		status int
		want   string
	}{
		{"bad ip", map[string]any{"client_id": "app", "remote_ip": "nope"}, 400, "remote_ip"},
		{"no client", map[string]any{}, 400, "client_id"},
		{"unknown client", map[string]any{"client_id": "ghost"}, 404, `client \"ghost\" not found`},
		{"unknown user", map[string]any{"client_id": "app", "user_id": "ghost"}, 400, `user \"ghost\" does not exist`},
		{"unknown field", map[string]any{"client_id": "app", "ip": "1.2.3.4"}, 400, "ip"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.want(a.do("POST", ws+"/policies/what-if", tc.body), tc.status)
			if !strings.Contains(string(r.raw), tc.want) {
				t.Fatalf("body %s lacks %q", r.raw, tc.want)
			}
		})
	}
}

// TestPolicyWhatIfUser: for a user, the client's user policy (or the
// workspace default) decides; the answer changes with the policy, and an
// allowed openid request shows the ID token's claims too.
func TestPolicyWhatIfUser(t *testing.T) {
	a := newAPI(t)
	a.env.Service.WhatIfRunner = &grants.Handler{Store: a.env.Store, BaseURL: "http://lk.test",
		Policies: &policy.Engine{Source: a.env.Store}, AuthCode: grants.AuthCodeDeps{Subjects: &oidc.Subjects{Store: a.env.Store}}}
	a.want(a.do("POST", ws+"/users", map[string]any{"id": "u1", "username": "alice", "email": "alice@example.com", "active": true}), 201)
	a.want(a.do("POST", ws+"/policies", map[string]any{"id": "dom", "name": "Domain", "kind": "user",
		"template": "email-domain", "params": map[string]string{"domain": "example.org"}}), 201)
	a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "web", "name": "Web",
		"redirect_uris": []string{"https://web.example/cb"}, "grant_types": []string{"authorization_code"}}), 201)
	a.want(a.do("PUT", ws+"/default-user-policy", map[string]any{"policy_id": "dom"}), 200)
	q := map[string]any{"client_id": "web", "user_id": "u1", "scopes": []string{"openid", "email"}}

	r := a.want(a.do("POST", ws+"/policies/what-if", q), 200)
	pol := r.body["policies"].([]any)[0].(map[string]any)
	if r.body["allowed"] != false || r.body["error"] != "access_denied" || r.body["grant_type"] != "authorization_code" ||
		pol["kind"] != "user" || pol["policy_id"] != "dom" ||
		r.body["error_description"] != "sign in with an email address of an allowed domain" {
		t.Fatalf("deny: %s", r.raw)
	}
	a.want(a.do("PATCH", ws+"/policies/dom", map[string]any{"template": "email-domain", "params": map[string]string{"domain": "example.com"}}), 200)
	// Email goes to UserInfo unless requested for the ID token (OIDC Core §5.4).
	r = a.want(a.do("POST", ws+"/policies/what-if", q), 200)
	id, _ := r.body["id_token"].(map[string]any)
	at, _ := r.body["access_token"].(map[string]any)
	if r.body["allowed"] != true || id["sub"] != "u1" || id["aud"] != "web" || id["email"] != nil ||
		at["sub"] != "u1" || at["scope"] != "openid email" {
		t.Fatalf("allow: %s", r.raw)
	}
	r = a.want(a.do("POST", ws+"/policies/what-if", map[string]any{"client_id": "web", "user_id": "u1", "grant_type": "password"}), 200)
	if r.body["error"] != "unsupported_grant_type" {
		t.Fatalf("password: %s", r.raw)
	}
	r = a.want(a.do("POST", ws+"/policies/what-if", map[string]any{"client_id": "web", "user_id": "u1", "grant_type": "refresh_token"}), 200)
	if r.body["allowed"] != true || r.body["id_token"] != nil {
		t.Fatalf("refresh: %s", r.raw)
	}
}
