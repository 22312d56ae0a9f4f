package e2e

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey/internal/cli/admincmd"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// cli runs "latchkey admin args..." against lk and returns its output.
func (lk *instance) cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := admincmd.NewCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"--server", lk.base, "--token", lk.admin}, args...))
	err := cmd.Execute()
	return out.String(), err
}

func (lk *instance) mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := lk.cli(t, args...)
	if err != nil {
		t.Fatalf("latchkey admin %v: %v\n%s", args, err, out)
	}
	return out
}

// auditEvents counts the workspace's audit events.
func (lk *instance) auditEvents(t *testing.T, ws string) int {
	t.Helper()
	var page struct {
		Items []map[string]any `json:"items"`
	}
	lk.adminOK(t, http.MethodGet, "/workspaces/"+ws+"/audit?limit=500", nil, http.StatusOK, &page)
	return len(page.Items)
}

// seedAcme builds a workspace with resources of every kind that refer to
// each other: a policy on a client and a service, claim mappings, a
// service user.
func seedAcme(t *testing.T, lk *instance) {
	t.Helper()
	lk.createWorkspace(t, "acme", "")
	lk.createService(t, "acme", "billing", "https://billing.example", "invoices.read")
	lk.adminOK(t, "POST", "/workspaces/acme/profiles", map[string]any{"id": "finance", "name": "Finance"}, 201, nil)
	lk.adminOK(t, "POST", "/workspaces/acme/users", map[string]any{"id": "svc-cmic", "username": "svc-cmic",
		"service_user": true, "profiles": []string{"finance"}}, 201, nil)
	lk.adminOK(t, "POST", "/workspaces/acme/policies", map[string]any{"id": "business-hours", "name": "Machines", "kind": "machine",
		"rules": []map[string]any{{"condition": `client.id == "billing-api"`, "outcome": "allow"}}}, 201, nil)
	c := lk.createClient(t, "acme", map[string]any{"client_id": "billing-api", "name": "Billing API",
		"grant_types": []string{"client_credentials"}, "scopes": []string{"invoices.read"}})
	_ = c
	lk.adminOK(t, "PUT", "/workspaces/acme/clients/billing-api/claims", map[string]any{"claims": []map[string]any{
		{"name": "cmicuser", "expression": `workspace.id + "||" + client.id`, "targets": []string{"access_token"}}}}, 200, nil)
	lk.adminOK(t, "PUT", "/workspaces/acme/clients/billing-api/policies", map[string]any{"machine_policy_id": "business-hours"}, 200, nil)
}

// TestConfigurationAsCode: export → apply to a fresh server → export is
// identical; the client secret given by env: reference gets a token with
// the mapped claim; applying twice changes nothing (no audit event); a
// file with one invalid client changes nothing and names the client and
// the member; --prune deletes exactly what the file does not name. On
// SQLite and PostgreSQL.
func TestConfigurationAsCode(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dsn := func() string {
				if backend == "postgres" {
					return postgresSchemaDSN(t)
				}
				return ""
			}
			a := startInstance(t, dsn())
			seedAcme(t, a)
			dir := t.TempDir()
			file := filepath.Join(dir, "acme.yaml")
			a.mustCLI(t, "export", "-w", "acme", "--file", file)
			exported, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			doc := string(exported)
			if strings.Contains(doc, "client_secret:") {
				t.Fatalf("export holds a secret:\n%s", doc)
			}

			// A fresh server, the secret by reference.
			b := startInstance(t, dsn())
			secret := e2etest.RandomToken(32)
			b.leaks.Add(secret)
			t.Setenv("BILLING_API_SECRET", secret)
			withSecret := strings.Replace(doc, "  - client_id: billing-api\n", "  - client_id: billing-api\n    client_secret: env:BILLING_API_SECRET\n", 1)
			secretFile := filepath.Join(dir, "acme-with-secret.yaml")
			if err := os.WriteFile(secretFile, []byte(withSecret), 0o600); err != nil {
				t.Fatal(err)
			}
			out := b.mustCLI(t, "apply", "-f", secretFile)
			if !strings.Contains(out, "+ clients[billing-api]") || strings.Contains(out, secret) {
				t.Fatalf("apply output:\n%s", out)
			}
			if again := b.mustCLI(t, "export", "-w", "acme"); again != doc {
				t.Fatalf("export after apply differs:\n%s\nwant\n%s", again, doc)
			}
			tok := b.mustToken(t, ccConfig(b.wsURL("acme")+"/oauth2/token",
				clientInfo{ClientID: "billing-api", ClientSecret: secret}, oauth2.AuthStyleInHeader, nil, nil))
			claims := verifiedClaims(t, b.issuer("acme"), b.wsURL("acme"), tok.AccessToken)
			if claims["cmicuser"] != "acme||billing-api" || claims["client_id"] != "billing-api" {
				t.Fatalf("token from the applied configuration: %v", claims)
			}

			// Twice: nothing changes, nothing is audited.
			before := b.auditEvents(t, "acme")
			if out := b.mustCLI(t, "apply", "-f", secretFile); !strings.Contains(out, "workspace acme: no changes") {
				t.Fatalf("second apply:\n%s", out)
			}
			if after := b.auditEvents(t, "acme"); after != before {
				t.Fatalf("second apply wrote %d audit events", after-before)
			}

			// One invalid client: nothing changes; the error names it.
			bad := strings.Replace(withSecret, "name: Billing API", "name: Billing API v2", 1)
			bad = strings.Replace(bad, "clients:\n", "clients:\n  - client_id: web-portal\n    name: Portal\n    grant_types: [authorization_code]\n    redirect_uris: [\"https://portal.example/cb#frag\"]\n", 1)
			badFile := filepath.Join(dir, "bad.yaml")
			_ = os.WriteFile(badFile, []byte(bad), 0o600)
			_, err = b.cli(t, "apply", "-f", badFile)
			if err == nil || !strings.Contains(err.Error(), "clients[web-portal].redirect_uris[0]") {
				t.Fatalf("invalid client: %v", err)
			}
			if now := b.mustCLI(t, "export", "-w", "acme"); now != doc {
				t.Fatalf("refused apply changed the workspace:\n%s", now)
			}
			if after := b.auditEvents(t, "acme"); after != before {
				t.Fatalf("refused apply wrote %d audit events", after-before)
			}

			// --prune deletes exactly what the file does not name.
			b.adminOK(t, "POST", "/workspaces/acme/users", map[string]any{"id": "temp", "username": "temp"}, 201, nil)
			out = b.mustCLI(t, "apply", "-f", secretFile, "--prune", "--dry-run")
			if !strings.Contains(out, "- users[temp]") || strings.Count(out, "  - ") != 1 {
				t.Fatalf("prune dry run:\n%s", out)
			}
			b.mustCLI(t, "apply", "-f", secretFile, "--prune")
			b.adminOK(t, "GET", "/workspaces/acme/users/temp", nil, 404, nil)
			if now := b.mustCLI(t, "export", "-w", "acme"); now != doc {
				t.Fatalf("after prune:\n%s", now)
			}
		})
	}
}
