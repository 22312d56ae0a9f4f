package adminapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// createAdminToken creates a token through the API with the bootstrap
// token and returns its id and value.
func (a *api) createAdminToken(body map[string]any) (id, token string) {
	a.t.Helper()
	r := a.want(a.do("POST", "/admin/v1/admin-tokens", body), 201)
	id, _ = r.body["id"].(string)
	token, _ = r.body["token"].(string)
	return id, token
}

func TestAdminTokensCRUD(t *testing.T) {
	a := newAPI(t)
	id, token := a.createAdminToken(map[string]any{"name": "ci", "role": "workspace_admin", "workspaces": []string{"default"}, "expires_in": 3600})
	if !strings.HasPrefix(token, service.AdminTokenPrefix) || !strings.HasPrefix(id, "adt_") {
		t.Fatalf("created token %q id %q", token, id)
	}
	list := a.want(a.do("GET", "/admin/v1/admin-tokens", nil), 200)
	items := list.body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("list = %s", list.raw)
	}
	got := items[0].(map[string]any)
	if got["token"] != nil || got["role"] != "workspace_admin" || got["created_by"] != "LATCHKEY_ADMIN_TOKEN" ||
		got["expires_at"] == nil || got["last_used_at"] != nil {
		t.Fatalf("listed token = %s", list.raw)
	}
	a.want(a.doAuth("GET", ws+"/services", nil, "Bearer "+token), 200)
	list = a.want(a.do("GET", "/admin/v1/admin-tokens", nil), 200)
	if list.body["items"].([]any)[0].(map[string]any)["last_used_at"] == nil {
		t.Fatalf("last use not recorded: %s", list.raw)
	}
	a.want(a.do("DELETE", "/admin/v1/admin-tokens/"+id, nil), 204)
	a.want(a.do("DELETE", "/admin/v1/admin-tokens/"+id, nil), 404)
}

func TestAdminTokenValidation(t *testing.T) {
	a := newAPI(t)
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"no name", map[string]any{"role": "super_admin"}, "name"},
		{"unknown role", map[string]any{"name": "x", "role": "owner"}, "role"},
		{"workspace role without workspaces", map[string]any{"name": "x", "role": "workspace_viewer"}, "workspaces"},
		{"super admin with workspaces", map[string]any{"name": "x", "role": "super_admin", "workspaces": []string{"default"}}, "workspaces"},
		{"unknown workspace", map[string]any{"name": "x", "role": "workspace_admin", "workspaces": []string{"nope"}}, "workspaces[0]"},
		{"negative expiry", map[string]any{"name": "x", "role": "super_admin", "expires_in": -1}, "expires_in"},
		{"unknown field", map[string]any{"name": "x", "role": "super_admin", "scope": "all"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.want(a.do("POST", "/admin/v1/admin-tokens", tc.body), 400)
			if r.body["error"] != "invalid_request" || !strings.Contains(string(r.raw), tc.field) {
				t.Fatalf("body = %s", r.raw)
			}
		})
	}
}

// TestAdminTokenRoles checks that each role reaches exactly what the
// console's role does (docs/security.md O5).
func TestAdminTokenRoles(t *testing.T) {
	a := newAPI(t)
	a.want(a.do("POST", "/admin/v1/workspaces", map[string]any{"id": "other", "name": "Other"}), 201)
	_, viewer := a.createAdminToken(map[string]any{"name": "viewer", "role": "workspace_viewer", "workspaces": []string{"default"}})
	_, wsAdmin := a.createAdminToken(map[string]any{"name": "ops", "role": "workspace_admin", "workspaces": []string{"default"}})
	_, super := a.createAdminToken(map[string]any{"name": "root", "role": "super_admin"})
	svc := map[string]any{"id": "api", "name": "API", "identifier": "https://api.example"}
	cases := []struct {
		name, token, method, path string
		body                      any
		status                    int
		code                      string
	}{
		{"viewer reads", viewer, "GET", ws + "/services", nil, 200, ""},
		{"viewer reads workspace", viewer, "GET", ws, nil, 200, ""},
		{"viewer cannot write", viewer, "POST", ws + "/services", svc, 403, "forbidden"},
		{"viewer cannot delete", viewer, "DELETE", ws + "/services/api", nil, 403, "forbidden"},
		{"viewer other workspace", viewer, "GET", "/admin/v1/workspaces/other/services", nil, 404, "not_found"},
		{"workspace admin writes", wsAdmin, "POST", ws + "/services", svc, 201, ""},
		{"workspace admin updates workspace", wsAdmin, "PATCH", ws, map[string]any{"name": "Default"}, 200, ""},
		{"workspace admin other workspace read", wsAdmin, "GET", "/admin/v1/workspaces/other", nil, 404, "not_found"},
		{"workspace admin other workspace write", wsAdmin, "POST", "/admin/v1/workspaces/other/services", svc, 404, "not_found"},
		{"workspace admin unknown workspace", wsAdmin, "GET", "/admin/v1/workspaces/nope", nil, 404, "not_found"},
		{"workspace admin cannot delete workspace", wsAdmin, "DELETE", ws, nil, 403, "forbidden"},
		{"workspace admin cannot list workspaces", wsAdmin, "GET", "/admin/v1/workspaces", nil, 403, "forbidden"},
		{"workspace admin cannot create workspaces", wsAdmin, "POST", "/admin/v1/workspaces", map[string]any{"id": "x", "name": "X"}, 403, "forbidden"},
		{"workspace admin cannot mint tokens", wsAdmin, "POST", "/admin/v1/admin-tokens", map[string]any{"name": "x", "role": "super_admin"}, 403, "forbidden"},
		{"workspace admin cannot list console users", wsAdmin, "GET", "/admin/v1/console-users", nil, 403, "forbidden"},
		{"super admin other workspace", super, "GET", "/admin/v1/workspaces/other/services", nil, 200, ""},
		{"super admin lists tokens", super, "GET", "/admin/v1/admin-tokens", nil, 200, ""},
		{"super admin creates workspace", super, "POST", "/admin/v1/workspaces", map[string]any{"id": "third", "name": "Third"}, 201, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.want(a.doAuth(tc.method, tc.path, tc.body, "Bearer "+tc.token), tc.status)
			if tc.code != "" && (r.body["error"] != tc.code || r.body["error_description"] == "") {
				t.Fatalf("body = %s, want error %q with a description", r.raw, tc.code)
			}
		})
	}
}

// TestAdminTokenForeignWorkspaceLooksUnknown: the 404 of another
// workspace is the 404 of one that does not exist (SECURITY.md O1).
func TestAdminTokenForeignWorkspaceLooksUnknown(t *testing.T) {
	a := newAPI(t)
	a.want(a.do("POST", "/admin/v1/workspaces", map[string]any{"id": "other", "name": "Other"}), 201)
	_, viewer := a.createAdminToken(map[string]any{"name": "viewer", "role": "workspace_viewer", "workspaces": []string{"default"}})
	foreign := a.want(a.doAuth("GET", "/admin/v1/workspaces/other", nil, "Bearer "+viewer), 404)
	unknown := a.want(a.do("GET", "/admin/v1/workspaces/nope", nil), 404)
	if strings.ReplaceAll(string(foreign.raw), "other", "nope") != string(unknown.raw) {
		t.Fatalf("foreign %s, unknown %s", foreign.raw, unknown.raw)
	}
}

func TestAdminTokenExpiredAndRevoked(t *testing.T) {
	a := newAPI(t)
	ctx := context.Background()
	expired := "lka_expired-token-value"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.env.Store.CreateAdminToken(ctx, storage.AdminToken{ID: "old", Name: "old", Hash: service.HashToken(expired),
		Role: storage.RoleSuperAdmin, CreatedAt: time.Now().Add(-2 * time.Hour), ExpiresAt: time.Now().Add(-time.Hour)}))
	r := a.want(a.doAuth("GET", ws, nil, "Bearer "+expired), 401)
	if r.body["error"] != "invalid_token" {
		t.Fatalf("expired: %s", r.raw)
	}
	id, token := a.createAdminToken(map[string]any{"name": "ci", "role": "super_admin"})
	a.want(a.doAuth("GET", ws, nil, "Bearer "+token), 200)
	a.want(a.do("DELETE", "/admin/v1/admin-tokens/"+id, nil), 204)
	a.want(a.doAuth("GET", ws, nil, "Bearer "+token), 401)
}

// TestAdminTokenAuditNamesToken: changes made with a stored token are
// recorded as "token:<id>" with the token's name.
func TestAdminTokenAuditNamesToken(t *testing.T) {
	a := newAPI(t)
	id, token := a.createAdminToken(map[string]any{"name": "deployer", "role": "workspace_admin", "workspaces": []string{"default"}})
	a.want(a.doAuth("POST", ws+"/services", map[string]any{"id": "api", "name": "API", "identifier": "https://api.example"}, "Bearer "+token), 201)
	page, err := a.env.Store.ListAuditEvents(context.Background(), storage.AuditFilter{WorkspaceID: "default", Action: service.AuditServiceCreate})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("audit = %+v, %v", page, err)
	}
	ev := page.Items[0]
	if ev.ActorKind != storage.ActorAPIToken || ev.ActorID != "token:"+id || ev.ActorName != "deployer" {
		t.Fatalf("audit actor = %q %q %q", ev.ActorKind, ev.ActorID, ev.ActorName)
	}
	page, err = a.env.Store.ListAuditEvents(context.Background(), storage.AuditFilter{Action: service.AuditAdminTokenCreate})
	if err != nil || len(page.Items) != 1 || page.Items[0].TargetID != id || page.Items[0].ActorName != "LATCHKEY_ADMIN_TOKEN" {
		t.Fatalf("create audit = %+v, %v", page, err)
	}
}

// TestAdminTokenOfDeletedWorkspace: deleting a workspace ends every admin
// token's power over it, and a workspace re-created with the same ID is
// reached by no earlier token (docs/security.md O2, O5). A token of that
// workspace alone is deleted (401 from then on, gone from the list); a
// token of several keeps the others and finds the new one as unknown as
// any workspace outside its list (404).
func TestAdminTokenOfDeletedWorkspace(t *testing.T) {
	a := newAPI(t)
	const wsc = "/admin/v1/workspaces/wsc"
	client := map[string]any{"name": "App", "grant_types": []string{"client_credentials"}}
	a.want(a.do("POST", "/admin/v1/workspaces", map[string]any{"id": "wsc", "name": "WSC"}), 201)
	onlyID, only := a.createAdminToken(map[string]any{"name": "only", "role": "workspace_admin", "workspaces": []string{"wsc"}})
	multiID, multi := a.createAdminToken(map[string]any{"name": "multi", "role": "workspace_admin", "workspaces": []string{"default", "wsc"}})
	a.want(a.doAuth("GET", wsc+"/clients", nil, "Bearer "+only), 200)
	a.want(a.doAuth("GET", wsc+"/clients", nil, "Bearer "+multi), 200)

	a.want(a.do("DELETE", wsc, nil), 204)
	a.want(a.doAuth("GET", wsc+"/clients", nil, "Bearer "+only), 401)
	list := a.want(a.do("GET", "/admin/v1/admin-tokens", nil), 200)
	items := list.body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != multiID {
		t.Fatalf("tokens after the workspace's deletion = %s", list.raw)
	}
	if ws := items[0].(map[string]any)["workspaces"].([]any); len(ws) != 1 || ws[0] != "default" {
		t.Fatalf("multi-workspace token kept %v, want [default]", ws)
	}

	a.want(a.do("POST", "/admin/v1/workspaces", map[string]any{"id": "wsc", "name": "WSC again"}), 201)
	for _, tc := range []struct {
		token, method, path string
		body                any
		status              int
	}{
		{only, "GET", wsc + "/clients", nil, 401},
		{only, "POST", wsc + "/clients", client, 401},
		{multi, "GET", wsc + "/clients", nil, 404},
		{multi, "POST", wsc + "/clients", client, 404},
		{multi, "GET", ws + "/clients", nil, 200},
		{multi, "POST", ws + "/clients", client, 201},
	} {
		a.want(a.doAuth(tc.method, tc.path, tc.body, "Bearer "+tc.token), tc.status)
	}

	// Audited as the token routes audit: one deletion, one narrowing.
	for _, want := range []struct{ action, id string }{{service.AuditAdminTokenDelete, onlyID}, {service.AuditAdminTokenUpdate, multiID}} {
		page, err := a.env.Store.ListAuditEvents(context.Background(), storage.AuditFilter{Action: want.action})
		if err != nil || len(page.Items) != 1 || page.Items[0].TargetID != want.id ||
			!strings.Contains(string(page.Items[0].Details), `"workspace":"wsc"`) {
			t.Fatalf("%s audit = %+v, %v", want.action, page, err)
		}
	}
}
