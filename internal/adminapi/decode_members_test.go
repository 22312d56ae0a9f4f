package adminapi_test

import (
	"net/url"
	"strings"
	"testing"
)

// wantRefused asserts a 400 invalid_request whose description has want.
func (a *api) wantRefused(r resp, want string) {
	a.t.Helper()
	a.want(r, 400)
	if r.body["error"] != "invalid_request" || !strings.Contains(r.body["error_description"].(string), want) {
		a.t.Fatalf("want invalid_request %q, got %s", want, r.raw)
	}
}

// TestMemberNamesOnRoutes covers docs/security.md M5 through real routes:
// a body whose reader would see one value while encoding/json applied
// another (a duplicate member, a member matching only case-insensitively)
// changes nothing.
func TestMemberNamesOnRoutes(t *testing.T) {
	a := newAPI(t)
	a.seedService()
	const tokens = "/admin/v1/admin-tokens"
	a.wantRefused(a.do("POST", tokens, `{"name":"x","role":"workspace_viewer","workspaces":["default"],"Role":"super_admin"}`),
		`unknown field "Role" (member names are case-sensitive; did you mean "role"?)`)
	a.wantRefused(a.do("POST", tokens, `{"name":"x","role":"workspace_viewer","workspaces":["default"],"r\u006fle":"super_admin"}`),
		`duplicate member "role" in the request body`)
	if r := a.want(a.do("GET", tokens, nil), 200); len(r.body["items"].([]any)) != 0 {
		t.Fatalf("a refused token was created: %s", r.raw)
	}
	a.want(a.do("POST", tokens, `{"name":"x","role":"workspace_viewer","workspaces":["default"]}`), 201)

	r := a.want(a.do("POST", ws+"/clients", `{"client_id":"app","name":"App","metadata":{"a":"1","A":"2"}}`), 201)
	if md := r.body["metadata"].(map[string]any); md["a"] != "1" || md["A"] != "2" {
		t.Fatalf("map keys differing by case: %s", r.raw)
	}
	base := ws + "/clients/" + url.PathEscape("app")
	a.wantRefused(a.do("PATCH", base, `{"NAME":"x"}`), `unknown field "NAME" (member names are case-sensitive; did you mean "name"?)`)
	a.wantRefused(a.do("PATCH", base, `{"name":"x","name":"y"}`), `duplicate member "name" in the request body`)
	a.wantRefused(a.do("PATCH", base, `{"Trusted":true}`), `did you mean "trusted"?`)
	a.wantRefused(a.do("PATCH", base, `{"refresh_tokens":{"always":true,"Always":false}}`), `unknown field "refresh_tokens.Always"`)
	if r := a.want(a.do("GET", base, nil), 200); r.body["name"] != "App" || r.body["trusted"] == true {
		t.Fatalf("a refused patch changed the client: %s", r.raw)
	}
	a.want(a.do("PATCH", base, `{"name":"Renamed"}`), 200)

	a.wantRefused(a.do("PUT", base+"/token-exchange", `{"may_impersonate":false,"MAY_IMPERSONATE":true}`),
		`did you mean "may_impersonate"?`)
	if r := a.want(a.do("GET", base+"/token-exchange", nil), 200); r.body["may_impersonate"] != false {
		t.Fatalf("impersonation turned on: %s", r.raw)
	}
}

// TestMemberNamesOnApply: the apply document's members, and each
// resource's as its route decodes it, follow the same rules.
func TestMemberNamesOnApply(t *testing.T) {
	a := newAPI(t)
	head := `"apiVersion":"latchkey/v1","kind":"Workspace","workspace":{"id":"default"}`
	a.wantRefused(a.apply(`{`+head+`,"Clients":[]}`, ""), `unknown field "Clients"`)
	a.wantRefused(a.apply(`{`+head+`,"clients":[{"client_id":"c1","name":"C","NAME":"D"}]}`, ""), `unknown field "NAME"`)
	a.wantRefused(a.apply("apiVersion: latchkey/v1\nkind: Workspace\nworkspace: {id: default}\nClients: []\n", ""), `unknown field "Clients"`)
	a.want(a.apply(`{`+head+`,"clients":[{"client_id":"c1","name":"C","grant_types":["client_credentials"]}]}`, ""), 200)
}
