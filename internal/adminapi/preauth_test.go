package adminapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/policy"
)

// TestJWTBearerPreAuthorizationPolicyView: the JWT bearer settings show
// the policy they are (the profiles template, its parameters and rules,
// read only: a PUT carrying it changes nothing), and the what-if tool
// shows the pre-authorization as its own stage with each rule's result
// and the grant's own error.
func TestJWTBearerPreAuthorizationPolicyView(t *testing.T) {
	a := newAPI(t)
	a.env.Service.WhatIfRunner = &grants.Handler{Store: a.env.Store, BaseURL: "http://lk.test",
		Policies: &policy.Engine{Source: a.env.Store}}
	a.want(a.do("POST", ws+"/profiles", map[string]any{"id": "sales", "name": "Sales"}), 201)
	a.want(a.do("POST", ws+"/users", map[string]any{"id": "u-in", "username": "ann", "active": true, "profiles": []string{"sales"}}), 201)
	a.want(a.do("POST", ws+"/users", map[string]any{"id": "u-out", "username": "bob", "active": true}), 201)
	a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "mobile", "name": "Mobile", "type": "confidential",
		"grant_types": []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"}}), 201)

	view := func() adminclient.JWTBearerSettings {
		t.Helper()
		var s adminclient.JWTBearerSettings
		if err := json.Unmarshal(a.want(a.do("GET", ws+"/clients/mobile/jwt-bearer", nil), 200).raw, &s); err != nil {
			t.Fatal(err)
		}
		if s.PreAuthorizationPolicy == nil || s.PreAuthorizationPolicy.Template != "profiles" || len(s.PreAuthorizationPolicy.Rules) != 2 {
			t.Fatalf("no pre-authorization policy in the view: %+v", s)
		}
		return s
	}
	// The default: nobody approved, no parameters, a rule that denies all.
	if p := view().PreAuthorizationPolicy; len(p.Params) != 0 || p.Rules[0].Condition != "!(false)" ||
		p.Rules[0].Message != "user is not pre-authorized for this app" {
		t.Fatalf("nobody approved: %+v", p)
	}
	a.want(a.do("PUT", ws+"/clients/mobile/jwt-bearer", map[string]any{"pre_auth": "admin_approved",
		"allowed_profiles": []string{"sales"}, "allowed_users": []string{"u-out"},
		"pre_authorization_policy": map[string]any{"template": "profiles", "params": map[string]string{"all_users": "true"}}}), 200)
	p := view().PreAuthorizationPolicy
	if p.Params["profiles"] != "sales" || p.Params["users"] != "u-out" || p.Params["all_users"] != "" ||
		!strings.Contains(p.Rules[0].Condition, `user.profiles.exists(p, p in ["sales"])`) ||
		!strings.Contains(p.Rules[0].Condition, `user.id in ["u-out"]`) {
		t.Fatalf("admin approved (the PUT's read-only member must be ignored): %+v", p)
	}

	a.want(a.do("PUT", ws+"/clients/mobile/jwt-bearer", map[string]any{"pre_auth": "admin_approved",
		"allowed_profiles": []string{"sales"}}), 200)
	ask := func(user string) adminclient.WhatIfResult {
		t.Helper()
		var res adminclient.WhatIfResult
		r := a.want(a.do("POST", ws+"/policies/what-if", map[string]any{"client_id": "mobile", "user_id": user,
			"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"}), 200)
		if err := json.Unmarshal(r.raw, &res); err != nil {
			t.Fatal(err)
		}
		if len(res.Policies) == 0 || res.Policies[0].Kind != "pre_authorization" || res.Policies[0].Template != "profiles" ||
			res.Policies[0].Params["profiles"] != "sales" || len(res.Policies[0].Rules) != 2 {
			t.Fatalf("%s: no pre-authorization stage: %s", user, r.raw)
		}
		return res
	}
	if res := ask("u-out"); res.Allowed || res.Error != "invalid_grant" ||
		res.ErrorDescription != "user is not pre-authorized for this app" ||
		res.Policies[0].Allow || res.Policies[0].Rule != 0 || res.Policies[0].Rules[0].Result != policy.RuleMatched ||
		res.Policies[0].Rules[1].Result != policy.RuleNotReached {
		t.Fatalf("u-out: %+v", res)
	}
	if res := ask("u-in"); !res.Allowed || !res.Policies[0].Allow || res.Policies[0].Rule != 1 ||
		res.Policies[0].Rules[0].Result != policy.RuleNotMatched || res.Policies[0].Rules[1].Result != policy.RuleMatched {
		t.Fatalf("u-in: %+v", res)
	}
	// The code flow has no pre-authorization stage.
	r := a.want(a.do("POST", ws+"/policies/what-if", map[string]any{"client_id": "mobile", "user_id": "u-out",
		"grant_type": "authorization_code"}), 200)
	if strings.Contains(string(r.raw), "pre_authorization") {
		t.Fatalf("code flow: %s", r.raw)
	}
}
