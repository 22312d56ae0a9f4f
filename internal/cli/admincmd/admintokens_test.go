package admincmd_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/adminapi"
	"github.com/latchkey/latchkey/internal/service/servicetest"
)

// runAs runs "admin args..." with bearer token tok: the later --token
// wins over the one run gives.
func runAs(t *testing.T, srv *httptest.Server, tok string, args ...string) (string, error) {
	t.Helper()
	return run(t, srv, append([]string{"--token", tok}, args...)...)
}

var (
	adminTokenIDRe    = regexp.MustCompile(`ID:\s+(adt_\S+)`)
	adminTokenValueRe = regexp.MustCompile(`Token:\s+(lka_\S+)`)
)

func TestAdminTokensCLI(t *testing.T) {
	env := servicetest.New(t)
	mux := http.NewServeMux()
	(&adminapi.Handler{Service: env.Service, Auth: adminapi.Auth{Static: token, Store: env.Store}}).Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	out, err := runAs(t, srv, token, "admin-tokens", "create", "--name", "reader", "--role", "workspace_viewer",
		"--workspaces", "default", "--expires-in", "24h")
	if err != nil {
		t.Fatalf("admin-tokens create: %v\n%s", err, out)
	}
	contains(t, out, "workspace_viewer", "shown only once")
	id, value := adminTokenIDRe.FindStringSubmatch(out), adminTokenValueRe.FindStringSubmatch(out)
	if id == nil || value == nil {
		t.Fatalf("no ID or token in %s", out)
	}
	if out, err = runAs(t, srv, value[1], "services", "list"); err != nil {
		t.Fatalf("viewer cannot read: %v\n%s", err, out)
	}
	out, err = runAs(t, srv, value[1], "workspaces", "list")
	if err == nil || !strings.Contains(err.Error()+out, "super_admin") {
		t.Fatalf("viewer listed workspaces: %v\n%s", err, out)
	}
	out, err = runAs(t, srv, token, "admin-tokens", "list")
	if err != nil {
		t.Fatalf("admin-tokens list: %v\n%s", err, out)
	}
	contains(t, out, id[1], "reader", "workspace_viewer", "default", "LATCHKEY_ADMIN_TOKEN")
	if strings.Contains(out, value[1]) {
		t.Fatalf("list shows the token value:\n%s", out)
	}
	if out, err = runAs(t, srv, token, "admin-tokens", "delete", id[1]); err != nil {
		t.Fatalf("admin-tokens delete: %v\n%s", err, out)
	}
	if out, err = runAs(t, srv, value[1], "services", "list"); err == nil {
		t.Fatalf("revoked token still works:\n%s", out)
	}
	out, err = runAs(t, srv, token, "admin-tokens", "create", "--name", "bad", "--role", "workspace_admin")
	if err == nil || !strings.Contains(err.Error()+out, "workspaces") {
		t.Fatalf("create without workspaces: %v\n%s", err, out)
	}
}
