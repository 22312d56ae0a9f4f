package adminapi_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestClaimMappingRoutes: the claims sub-resources of clients and
// services store, return and replace the whole list; refusals are 400
// naming the claim (and line and column), unknown owners 404.
func TestClaimMappingRoutes(t *testing.T) {
	a := newAPI(t)
	a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "app", "name": "App"}), 201)
	a.want(a.do("POST", ws+"/services", map[string]any{"id": "api", "name": "API", "identifier": "https://api.example",
		"scopes": []map[string]string{{"name": "read", "description": "Read"}}}), 201)
	for _, owner := range []string{ws + "/clients/app/claims", ws + "/services/api/claims"} {
		r := a.want(a.do("GET", owner, nil), 200)
		if !strings.Contains(string(r.raw), `"claims":[]`) {
			t.Fatalf("GET %s without mappings: %s", owner, r.raw)
		}
		body := map[string]any{"claims": []map[string]any{
			{"name": "tenant", "expression": `workspace.id`, "targets": []string{"access_token", "id_token"}}}}
		r = a.want(a.do("PUT", owner, body), 200)
		if !strings.Contains(string(r.raw), `"name":"tenant"`) {
			t.Fatalf("PUT %s: %s", owner, r.raw)
		}
		for _, tc := range []struct {
			claim map[string]any
			want  string
		}{
			{map[string]any{"name": "jti", "expression": `"x"`, "targets": []string{"access_token"}}, `claims[0]: claim 0 (\"jti\"): is a reserved claim`},
			{map[string]any{"name": "a", "expression": "user.id +\n user.nope", "targets": []string{"access_token"}}, "line 2, column 6: undefined field 'nope'"},
			{map[string]any{"name": "a", "expression": `"x"`, "targets": []string{}}, "needs at least one target"},
		} {
			r := a.want(a.do("PUT", owner, map[string]any{"claims": []any{tc.claim}}), 400)
			if !strings.Contains(string(r.raw), tc.want) {
				t.Errorf("PUT %s %v: %s, want %q", owner, tc.claim, r.raw, tc.want)
			}
		}
		r = a.want(a.do("GET", owner, nil), 200)
		if !strings.Contains(string(r.raw), `"name":"tenant"`) {
			t.Fatalf("a refused PUT changed %s: %s", owner, r.raw)
		}
		a.want(a.do("PUT", owner, `{"claims":[],"extra":1}`), 400)
	}
	// Other changes to the client or service keep its claim mappings.
	a.want(a.do("PATCH", ws+"/clients/app", map[string]any{"name": "App 2"}), 200)
	a.want(a.do("PATCH", ws+"/services/api", map[string]any{"name": "API 2"}), 200)
	for _, owner := range []string{ws + "/clients/app/claims", ws + "/services/api/claims"} {
		if r := a.want(a.do("GET", owner, nil), 200); !strings.Contains(string(r.raw), `"name":"tenant"`) {
			t.Errorf("%s after a patch of the owner: %s", owner, r.raw)
		}
	}
	a.want(a.do("GET", ws+"/clients/nope/claims", nil), 404)
	a.want(a.do("PUT", ws+"/services/nope/claims", map[string]any{"claims": []any{}}), 404)
}

// FuzzClaimSave: random names, expressions and targets through the admin
// API are stored (200) or refused (400), never anything else.
func FuzzClaimSave(f *testing.F) {
	for _, s := range []string{`workspace.id + "||" + user.username`, "((((", `{"a": [1, 2.5, true, null]}`, "\x00",
		`request.claims.a.b`, `timestamp("2020-01-01T00:00:00Z")`, `b"bytes"`, "1 / 0", `user`} {
		f.Add("cmicuser", s, "access_token")
	}
	f.Add("sub", `"x"`, "id_token")
	f.Add("", `"x"`, "cookie")
	a := newAPI(f)
	a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "fz", "name": "Fuzz"}), 201)
	f.Fuzz(func(t *testing.T, name, expr, target string) {
		a.t = t
		body, _ := json.Marshal(map[string]any{"claims": []map[string]any{{"name": name, "expression": expr, "targets": []string{target}}}})
		r := a.do("PUT", ws+"/clients/fz/claims", body)
		if r.status != 200 && r.status != 400 {
			t.Fatalf("status %d for %q %q %q: %s", r.status, name, expr, target, r.raw)
		}
	})
}
