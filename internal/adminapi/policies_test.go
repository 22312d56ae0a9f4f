package adminapi_test

import (
	"encoding/json"
	"strings"
	"testing"
)

func rulesBody(conds ...string) map[string]any {
	rules := make([]map[string]string, len(conds))
	for i, c := range conds {
		rules[i] = map[string]string{"condition": c, "outcome": "allow"}
	}
	return map[string]any{"name": "P", "kind": "user", "rules": rules}
}

// TestPolicySaveRefusals: every refused save is a 400 naming the field
// and, for CEL, the rule, line and column; nothing is saved.
func TestPolicySaveRefusals(t *testing.T) {
	a := newAPI(t)
	cases := []struct {
		name string
		body any
		want string
	}{
		{"undeclared reference (Z9)", rulesBody("true", `http.get("http://127.0.0.1:1") == ""`), "rule 1, line 1, column 1: undeclared reference to 'http'"},
		{"unknown field", rulesBody("user.emal == 'x'"), "rule 0, line 1, column 5: undefined field 'emal'"},
		{"syntax error", rulesBody("true &&\n  (user.id"), "rule 0, line 2"},
		{"not a bool (Z7)", rulesBody(`"true"`), "rule 0, line 1, column 1: condition must be a bool expression, not string"},
		{"too deep (Z3)", rulesBody(strings.Repeat("(", 200) + "true" + strings.Repeat(")", 200)), "rule 0"},
		{"too long (Z3)", rulesBody(strings.Repeat("a", 5000)), "longer than 4096 bytes"},
		{"bad outcome", map[string]any{"name": "P", "kind": "user", "rules": []map[string]string{{"condition": "true", "outcome": "maybe"}}}, `outcome must be \"allow\" or \"deny\"`},
		{"bad kind", map[string]any{"name": "P", "kind": "root", "rules": []map[string]string{{"condition": "true", "outcome": "allow"}}}, "kind: must be one of user, machine, access"},
		{"no rules", map[string]any{"name": "P", "kind": "user"}, "a policy needs at least one rule"},
		{"bad message", map[string]any{"name": "P", "kind": "user", "rules": []map[string]string{{"condition": "true", "outcome": "deny", "message": "say \"no\""}}}, "printable ASCII"},
		{"unknown template", map[string]any{"name": "P", "kind": "user", "template": "nope"}, `unknown template \"nope\"`},
		{"bad template parameter", map[string]any{"name": "P", "kind": "user", "template": "ip-ranges", "params": map[string]string{"cidrs": "10.0.0.0/33"}}, "is not a CIDR range"},
		{"template and rules", map[string]any{"name": "P", "kind": "user", "template": "service-users-only", "rules": []map[string]string{{"condition": "true", "outcome": "allow"}}}, "either rules or a template"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.want(a.do("POST", ws+"/policies", tc.body), 400)
			if !strings.Contains(string(r.raw), tc.want) {
				t.Fatalf("body %s lacks %q", r.raw, tc.want)
			}
		})
	}
	r := a.want(a.do("GET", ws+"/policies", nil), 200)
	if items := r.body["items"].([]any); len(items) != 0 {
		t.Fatalf("refused saves stored something: %s", r.raw)
	}
}

// TestPolicyRoutes: create, update (a new version), versions, rollback,
// templates, attachments and delete.
func TestPolicyRoutes(t *testing.T) {
	a := newAPI(t)
	r := a.want(a.do("GET", "/admin/v1/policy-templates", nil), 200)
	if len(r.body["items"].([]any)) != 5 {
		t.Fatalf("templates: %s", r.raw)
	}
	r = a.want(a.do("POST", ws+"/policies", map[string]any{"id": "svc", "name": "Service users", "kind": "machine",
		"template": "service-users-only"}), 201)
	if r.body["version"] != float64(1) || len(r.body["rules"].([]any)) != 2 {
		t.Fatalf("create: %s", r.raw)
	}
	a.want(a.do("POST", ws+"/policies", map[string]any{"id": "svc", "name": "Again", "kind": "machine", "template": "service-users-only"}), 409)
	r = a.want(a.do("PATCH", ws+"/policies/svc", map[string]any{"description": "v2"}), 200)
	if r.body["version"] != float64(2) {
		t.Fatalf("update: %s", r.raw)
	}
	a.want(a.do("PATCH", ws+"/policies/svc", map[string]any{"kind": "user"}), 400)
	a.want(a.do("PATCH", ws+"/policies/svc", map[string]any{"id": "other"}), 400)
	r = a.want(a.do("GET", ws+"/policies/svc/versions", nil), 200)
	if len(r.body["items"].([]any)) != 2 {
		t.Fatalf("versions: %s", r.raw)
	}
	r = a.want(a.do("POST", ws+"/policies/svc/rollback", map[string]any{"version": 1}), 200)
	if r.body["version"] != float64(3) || r.body["description"] != "" {
		t.Fatalf("rollback: %s", r.raw)
	}
	a.want(a.do("POST", ws+"/policies/svc/rollback", map[string]any{"version": 7}), 404)
	a.want(a.do("POST", ws+"/policies/nope/rollback", map[string]any{"version": 1}), 404)

	a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "app", "name": "App", "grant_types": []string{"client_credentials"}}), 201)
	r = a.want(a.do("PUT", ws+"/clients/app/policies", map[string]any{"machine_policy_id": "svc"}), 200)
	if r.body["machine_policy_id"] != "svc" {
		t.Fatalf("attach: %s", r.raw)
	}
	a.want(a.do("PUT", ws+"/clients/app/policies", map[string]any{"user_policy_id": "svc"}), 400) // kind machine
	a.want(a.do("PUT", ws+"/clients/app/policies", map[string]any{"machine_policy_id": "missing"}), 400)
	// A client update keeps the attachment.
	a.want(a.do("PATCH", ws+"/clients/app", map[string]any{"name": "App 2"}), 200)
	r = a.want(a.do("GET", ws+"/clients/app/policies", nil), 200)
	if r.body["machine_policy_id"] != "svc" {
		t.Fatalf("after client update: %s", r.raw)
	}
	r = a.want(a.do("DELETE", ws+"/policies/svc", nil), 409)
	if !strings.Contains(string(r.raw), `attached to client \"app\"`) {
		t.Fatalf("delete attached: %s", r.raw)
	}
	a.want(a.do("PUT", ws+"/clients/app/policies", map[string]any{}), 200)
	a.want(a.do("DELETE", ws+"/policies/svc", nil), 204)
	a.want(a.do("GET", ws+"/policies/svc/versions", nil), 404)
	a.want(a.do("PUT", ws+"/default-user-policy", map[string]any{"policy_id": "svc"}), 400)
	a.want(a.do("GET", "/admin/v1/workspaces/nowhere/policies", nil), 404)
}

// FuzzPolicySave: any condition, message or outcome sent to the save path
// gets 201 or 400, never a 500 or a panic.
func FuzzPolicySave(f *testing.F) {
	for _, s := range []string{"true", `user.email.endsWith("@x")`, "((((", `ip_in(request.remote_ip, ["x"])`,
		`[1,2,3].map(x, [x, x]).all(y, true)`, "\x00", `request.claims.a.b.c == 1`, "size(user.profiles) / 0 == 1"} {
		f.Add(s, "allow", "m")
	}
	a := newAPI(f)
	f.Fuzz(func(t *testing.T, cond, outcome, msg string) {
		a.t = t
		body, _ := json.Marshal(map[string]any{"name": "F", "kind": "user",
			"rules": []map[string]string{{"condition": cond, "outcome": outcome, "message": msg}}})
		r := a.do("POST", ws+"/policies", body)
		if r.status != 201 && r.status != 400 {
			t.Fatalf("status %d for %q: %s", r.status, cond, r.raw)
		}
	})
}
