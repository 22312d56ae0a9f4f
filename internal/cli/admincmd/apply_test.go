package admincmd_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/adminapi"
	"github.com/latchkey/latchkey/internal/service/servicetest"
)

// configServer is server() with its service, to check secrets.
func configServer(t *testing.T) (*httptest.Server, *servicetest.Env) {
	t.Helper()
	env := servicetest.New(t)
	mux := http.NewServeMux()
	(&adminapi.Handler{Service: env.Service, Auth: adminapi.Auth{Static: token}, BaseURL: "http://lk.test"}).Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, env
}

func seedConfig(t *testing.T, srv *httptest.Server) {
	t.Helper()
	c := adminclient.New(srv.URL, token)
	ctx := context.Background()
	for _, req := range []struct {
		path string
		body any
	}{
		{"/workspaces", map[string]any{"id": "acme", "name": "Acme", "settings": map[string]any{"signing_alg": "ES256"}}},
		{"/workspaces/acme/services", map[string]any{"id": "billing", "name": "Billing", "identifier": "https://billing.example",
			"scopes": []map[string]string{{"name": "invoices.read"}}}},
		{"/workspaces/acme/profiles", map[string]any{"id": "finance", "name": "Finance"}},
		{"/workspaces/acme/users", map[string]any{"id": "svc-cmic", "username": "svc-cmic", "service_user": true}},
		{"/workspaces/acme/policies", map[string]any{"id": "finance-only", "name": "Finance only", "kind": "user",
			"rules": []map[string]any{{"condition": `"finance" in user.profiles`, "outcome": "allow"}}}},
		{"/workspaces/acme/clients", map[string]any{"client_id": "billing-api", "name": "Billing API",
			"grant_types": []string{"client_credentials"}, "scopes": []string{"invoices.read"}}},
	} {
		if _, err := c.Do(ctx, "POST", req.path, nil, req.body); err != nil {
			t.Fatalf("seed %s: %v", req.path, err)
		}
	}
	if _, err := c.Do(ctx, "PUT", "/workspaces/acme/clients/billing-api/claims", nil, map[string]any{"claims": []map[string]any{
		{"name": "cmicuser", "expression": `workspace.id + "||svc-cmic"`, "targets": []string{"access_token"}}}}); err != nil {
		t.Fatal(err)
	}
}

// export → apply to a fresh server → export is the same document; a
// second apply changes nothing.
func TestExportApplyCLI(t *testing.T) {
	a, _ := configServer(t)
	seedConfig(t, a)
	file := filepath.Join(t.TempDir(), "acme.yaml")
	mustRun(t, a, "export", "-w", "acme", "--file", file)
	doc, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	contains(t, string(doc), "apiVersion: latchkey/v1", "kind: Workspace", "client_id: billing-api", "cmicuser", "finance-only")
	if info, _ := os.Stat(file); info.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v", info.Mode().Perm())
	}

	b, _ := configServer(t)
	out := mustRun(t, b, "apply", "-f", file, "--dry-run")
	contains(t, out, "+ workspace", "+ clients[billing-api]", "+ policies[finance-only]", "dry run: nothing was changed")
	if _, err := run(t, b, "workspaces", "get", "acme"); err == nil {
		t.Fatal("dry run created the workspace")
	}
	contains(t, mustRun(t, b, "apply", "-f", file), "applied")
	if again := mustRun(t, b, "export", "-w", "acme"); again != string(doc) {
		t.Fatalf("export after apply differs:\n%s\nwant\n%s", again, doc)
	}
	contains(t, mustRun(t, b, "apply", "-f", file), "workspace acme: no changes")
	js := mustRun(t, b, "-o", "json", "export", "-w", "acme")
	contains(t, js, `"apiVersion": "latchkey/v1"`)
}

// Secrets are given by env: and file: reference, resolved by the CLI,
// and never exported.
func TestApplySecretReferencesCLI(t *testing.T) {
	srv, env := configServer(t)
	seedConfig(t, srv)
	dir := t.TempDir()
	file := filepath.Join(dir, "acme.yaml")
	mustRun(t, srv, "export", "-w", "acme", "--file", file)
	doc, _ := os.ReadFile(file)

	fromEnv := strings.Repeat("e", 40)
	t.Setenv("BILLING_SECRET", fromEnv)
	withEnv := strings.Replace(string(doc), "  - client_id: billing-api\n", "  - client_id: billing-api\n    client_secret: env:BILLING_SECRET\n", 1)
	envFile := filepath.Join(dir, "env.yaml")
	_ = os.WriteFile(envFile, []byte(withEnv), 0o600)
	out := mustRun(t, srv, "apply", "-f", envFile)
	if strings.Contains(out, fromEnv) {
		t.Fatalf("apply printed the secret: %s", out)
	}
	if ok, err := env.Service.ClientSecretEquals(context.Background(), "acme", "billing-api", fromEnv); err != nil || !ok {
		t.Fatalf("env: secret not set: %v %v", ok, err)
	}
	contains(t, mustRun(t, srv, "apply", "-f", envFile), "no changes")

	fromFile := strings.Repeat("f", 40)
	secretFile := filepath.Join(dir, "billing.secret")
	_ = os.WriteFile(secretFile, []byte(fromFile+"\n"), 0o600)
	withFile := strings.Replace(string(doc), "  - client_id: billing-api\n", "  - client_id: billing-api\n    client_secret: file:"+secretFile+"\n", 1)
	fileDoc := filepath.Join(dir, "file.yaml")
	_ = os.WriteFile(fileDoc, []byte(withFile), 0o600)
	contains(t, mustRun(t, srv, "apply", "-f", fileDoc, "--dry-run"), "clients[billing-api].client_secret: (secret changed)")
	mustRun(t, srv, "apply", "-f", fileDoc)
	if ok, _ := env.Service.ClientSecretEquals(context.Background(), "acme", "billing-api", fromFile); !ok {
		t.Fatal("file: secret not set")
	}
	exported := mustRun(t, srv, "export", "-w", "acme")
	if strings.Contains(exported, fromFile) || strings.Contains(exported, "client_secret:") {
		t.Fatalf("export shows the secret:\n%s", exported)
	}

	t.Setenv("BILLING_SECRET", "")
	_, err := run(t, srv, "apply", "-f", envFile)
	if err == nil || !strings.Contains(err.Error(), "clients[billing-api].client_secret: environment variable BILLING_SECRET is not set") {
		t.Fatalf("unset env: %v", err)
	}
}

// A file with one invalid client changes nothing and names the client and
// the member; --prune deletes exactly what the file does not name.
func TestApplyInvalidAndPruneCLI(t *testing.T) {
	srv, _ := configServer(t)
	seedConfig(t, srv)
	file := filepath.Join(t.TempDir(), "acme.yaml")
	mustRun(t, srv, "export", "-w", "acme", "--file", file)
	doc, _ := os.ReadFile(file)

	bad := strings.Replace(string(doc), "clients:\n", "clients:\n  - client_id: web\n    name: Web\n    grant_types: [authorization_code]\n    redirect_uris: [\"ftp://x\"]\n", 1)
	bad = strings.Replace(bad, "name: Billing API", "name: Billing API renamed", 1)
	badFile := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(badFile, []byte(bad), 0o600)
	_, err := run(t, srv, "apply", "-f", badFile)
	if err == nil || !strings.Contains(err.Error(), "clients[web].redirect_uris[0]") {
		t.Fatalf("invalid client: %v", err)
	}
	if now := mustRun(t, srv, "export", "-w", "acme"); now != string(doc) {
		t.Fatalf("refused apply changed the workspace:\n%s", now)
	}

	mustRun(t, srv, "profiles", "create", "-w", "acme", "--id", "extra", "--name", "Extra")
	out := mustRun(t, srv, "apply", "-f", file, "--prune", "--dry-run")
	contains(t, out, "- profiles[extra]")
	if strings.Count(out, "  - ") != 1 {
		t.Fatalf("prune would delete more than the unnamed profile:\n%s", out)
	}
	if out := mustRun(t, srv, "apply", "-f", file); strings.Contains(out, "- profiles") {
		t.Fatalf("apply without --prune deletes:\n%s", out)
	}
	mustRun(t, srv, "apply", "-f", file, "--prune")
	if now := mustRun(t, srv, "export", "-w", "acme"); now != string(doc) {
		t.Fatalf("after prune:\n%s", now)
	}
}

// export --all writes every workspace as one kind List document, which
// apply reproduces on a fresh server.
func TestExportAllApplyCLI(t *testing.T) {
	a, _ := configServer(t)
	seedConfig(t, a)
	file := filepath.Join(t.TempDir(), "all.yaml")
	mustRun(t, a, "export", "--all", "--file", file)
	doc, _ := os.ReadFile(file)
	contains(t, string(doc), "kind: List", "id: acme", "id: default")
	b, _ := configServer(t)
	contains(t, mustRun(t, b, "apply", "-f", file), "+ workspace", "applied")
	if again := mustRun(t, b, "export", "--all"); again != string(doc) {
		t.Fatalf("export --all after apply differs:\n%s\nwant\n%s", again, doc)
	}
	_, err := run(t, b, "apply", "-f", filepath.Join(t.TempDir(), "missing.yaml"))
	if err == nil {
		t.Fatal("apply of a missing file succeeded")
	}
}
