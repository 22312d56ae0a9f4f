package console_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestConsoleUserEdit covers the console user edit page: role,
// workspaces, disabled, password reset; validation names field and rule;
// the change signs the user out (SECURITY.md O4).
func TestConsoleUserEdit(t *testing.T) {
	e := startServer(t)
	root := e.browser()
	tok := root.setupAdmin(t)
	resp, body := root.post("/console/users", url.Values{"csrf_token": {tok}, "username": {"vera"}, "password": {"viewer password 1"},
		"role": {"workspace_viewer"}, "workspaces": {"default"}})
	wantStatus(t, "create viewer", resp, 200)
	m := regexp.MustCompile(`href="/console/users/(adm_[^"]+)">vera<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no edit link for vera:\n%s", body)
	}
	userPath := "/console/users/" + m[1]

	// Vera signs in.
	v := e.browser()
	_, body = v.get("/console/signin")
	resp, _ = v.post("/console/signin", url.Values{"csrf_token": {csrf(t, body)}, "username": {"vera"}, "password": {"viewer password 1"}})
	wantStatus(t, "vera signs in", resp, 200)

	resp, body = root.get(userPath)
	wantStatus(t, "edit page", resp, 200)
	for _, id := range []string{"email", "display_name", "role", "workspaces", "password", "password_again"} {
		if !strings.Contains(body, `<label for="`+id+`"`) {
			t.Errorf("input %s has no label", id)
		}
	}

	cases := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"unknown workspace", url.Values{"role": {"workspace_admin"}, "workspaces": {"nope"}}, 400, "workspaces[0]"},
		{"no workspace for a workspace role", url.Values{"role": {"workspace_admin"}}, 400, "(required)"},
		{"bad role", url.Values{"role": {"root"}, "workspaces": {"default"}}, 400, "(enum)"},
		{"bad e-mail", url.Values{"role": {"workspace_admin"}, "workspaces": {"default"}, "email": {"not-an-email"}}, 400, "<code>email</code>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf_token", tok)
			resp, body := root.post(userPath, tc.form)
			wantStatus(t, tc.name, resp, tc.status)
			if !strings.Contains(body, tc.want) {
				t.Fatalf("page lacks %q", tc.want)
			}
		})
	}

	resp, body = root.post(userPath, url.Values{"csrf_token": {tok}, "role": {"workspace_admin"}, "workspaces": {"default"}, "email": {"vera@example.com"}})
	wantStatus(t, "promote", resp, 200)
	if !strings.Contains(body, `<option selected>workspace_admin</option>`) || !strings.Contains(body, "vera@example.com") {
		t.Fatal("role or e-mail not saved")
	}
	// The role change ended Vera's session.
	resp, _ = v.get("/console/w/default/clients")
	if !strings.HasSuffix(resp.Request.URL.Path, "/console/signin") {
		t.Fatal("session survived a role change")
	}

	resp, body = root.post(userPath+"/password", url.Values{"csrf_token": {tok}, "password": {"a new long password"}, "password_again": {"another one"}})
	wantStatus(t, "mismatched passwords", resp, 400)
	if !strings.Contains(body, "do not match") {
		t.Fatal("mismatch not explained")
	}
	resp, _ = root.post(userPath+"/password", url.Values{"csrf_token": {tok}, "password": {"short"}, "password_again": {"short"}})
	wantStatus(t, "short password", resp, 400)
	resp, body = root.post(userPath+"/password", url.Values{"csrf_token": {tok}, "password": {"a new long password"}, "password_again": {"a new long password"}})
	wantStatus(t, "reset password", resp, 200)
	if !strings.Contains(body, "Password changed") {
		t.Fatal("no confirmation")
	}
	_, body = v.get("/console/signin")
	resp, _ = v.post("/console/signin", url.Values{"csrf_token": {csrf(t, body)}, "username": {"vera"}, "password": {"a new long password"}})
	wantStatus(t, "sign in with the new password", resp, 200)

	// Disable: Vera cannot sign in any more.
	resp, _ = root.post(userPath, url.Values{"csrf_token": {tok}, "role": {"workspace_admin"}, "workspaces": {"default"}, "disabled": {"on"}})
	wantStatus(t, "disable", resp, 200)
	_, body = v.get("/console/signin")
	resp, _ = v.post("/console/signin", url.Values{"csrf_token": {csrf(t, body)}, "username": {"vera"}, "password": {"a new long password"}})
	wantStatus(t, "disabled user signs in", resp, 401)

	// The last super admin cannot demote itself.
	_, body = root.get("/console/users")
	rm := regexp.MustCompile(`href="/console/users/(adm_[^"]+)">root<`).FindStringSubmatch(body)
	resp, body = root.post("/console/users/"+rm[1], url.Values{"csrf_token": {tok}, "role": {"workspace_viewer"}, "workspaces": {"default"}})
	wantStatus(t, "demote the last super admin", resp, 409)
	if !strings.Contains(body, "last enabled super admin") {
		t.Fatal("conflict not explained")
	}
}
