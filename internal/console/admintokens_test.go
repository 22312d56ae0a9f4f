package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// adminGet calls the admin API of e with bearer token tok.
func (e *env) adminGet(t *testing.T, path, tok string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", e.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestConsoleAdminTokens: a super admin creates a scoped admin token in
// the console, sees it once with a copy button, sees its role and last
// use in the list, and deletes it, which stops it at once
// (docs/security.md O5).
func TestConsoleAdminTokens(t *testing.T) {
	e := startServer(t)
	root := e.browser()
	tok := root.setupAdmin(t)
	resp, body := root.get("/console/admin-tokens")
	wantStatus(t, "admin tokens page", resp, 200)
	for _, id := range []string{"name", "role", "workspaces", "expires_in_days"} {
		if !strings.Contains(body, `<label for="`+id+`"`) {
			t.Errorf("input %s has no label", id)
		}
	}
	resp, body = root.post("/console/admin-tokens", url.Values{"csrf_token": {tok}, "name": {"deployer"}, "role": {"workspace_admin"}})
	wantStatus(t, "token without workspaces", resp, 400)
	if !strings.Contains(body, "workspaces") {
		t.Fatal("the refused form does not name the field")
	}
	resp, body = root.post("/console/admin-tokens", url.Values{"csrf_token": {tok}, "name": {"reader"},
		"role": {"workspace_viewer"}, "workspaces": {"default"}, "expires_in_days": {"30"}})
	wantStatus(t, "create", resp, 200)
	m := regexp.MustCompile(`data-copy="admin token">(lka_[^<]+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("token not shown with a copy button:\n%s", body)
	}
	value := m[1]
	if got := e.adminGet(t, "/admin/v1/workspaces/default/services", value); got != 200 {
		t.Fatalf("viewer read = %d", got)
	}
	if got := e.adminGet(t, "/admin/v1/workspaces", value); got != 403 {
		t.Fatalf("viewer server-wide read = %d", got)
	}
	resp, body = root.get("/console/admin-tokens")
	wantStatus(t, "list", resp, 200)
	if strings.Contains(body, value) || !strings.Contains(body, "workspace_viewer") || strings.Count(body, ">never<") != 0 {
		t.Fatalf("list shows the value, or lacks role, expiry or last use:\n%s", body)
	}
	id := regexp.MustCompile(`action="/console/admin-tokens/(adt_[^"/]+)/delete"`).FindStringSubmatch(body)
	if id == nil {
		t.Fatalf("no delete form:\n%s", body)
	}
	resp, _ = root.post("/console/admin-tokens/"+id[1]+"/delete", url.Values{"csrf_token": {tok}})
	wantStatus(t, "delete without confirmation", resp, 400)
	resp, _ = root.post("/console/admin-tokens/"+id[1]+"/delete", url.Values{"csrf_token": {tok}, "confirm": {"on"}})
	wantStatus(t, "delete", resp, 200)
	if got := e.adminGet(t, "/admin/v1/workspaces/default/services", value); got != 401 {
		t.Fatalf("deleted token answers %d", got)
	}
}

// TestConsoleAdminTokensSuperAdminOnly: workspace roles cannot reach the
// page (SECURITY.md O4).
func TestConsoleAdminTokensSuperAdminOnly(t *testing.T) {
	e := startServer(t)
	root := e.browser()
	tok := root.setupAdmin(t)
	resp, _ := root.post("/console/users", url.Values{"csrf_token": {tok}, "username": {"vera"}, "password": {"admin password 12"},
		"role": {"workspace_admin"}, "workspaces": {"default"}})
	wantStatus(t, "create workspace admin", resp, 200)
	v := e.browser()
	_, body := v.get("/console/signin")
	resp, _ = v.post("/console/signin", url.Values{"csrf_token": {csrf(t, body)}, "username": {"vera"}, "password": {"admin password 12"}})
	wantStatus(t, "vera signs in", resp, 200)
	resp, _ = v.get("/console/admin-tokens")
	wantStatus(t, "workspace admin opens admin tokens", resp, 403)
}
