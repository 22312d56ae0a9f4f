package admincmd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicyCommands(t *testing.T) {
	srv := server(t)
	out := mustRun(t, srv, "policies", "templates")
	contains(t, out, "profiles", "email-domain", "ip-ranges", "service-users-only", "time-window", "--param domain=...")

	out = mustRun(t, srv, "policies", "create", "--id", "corp", "--name", "Corp", "--template", "email-domain",
		"--param", "domain=example.com")
	contains(t, out, "Kind:", "user", "Version:", "1", "deny if", "@example.com", "allow if true")

	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte(`- condition: 'ip_in(request.remote_ip, ["10.0.0.0/8"])'
  outcome: allow
- condition: "true"
  outcome: deny
  message: outside the office
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out = mustRun(t, srv, "policies", "create", "--id", "office", "--name", "Office", "--kind", "machine", "--file", rules)
	contains(t, out, "machine", "outside the office")

	// A condition that does not type-check names its rule, line and column.
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`[{"condition": "user.nope", "outcome": "allow"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, srv, "policies", "update", "corp", "--file", bad); err == nil || !strings.Contains(out+err.Error(), "rule 0, line 1, column 5") {
		t.Fatalf("bad rules: %q %v", out, err)
	}

	out = mustRun(t, srv, "policies", "update", "corp", "--template", "email-domain", "--param", "domain=example.org")
	contains(t, out, "Version:", "2", "@example.org")
	out = mustRun(t, srv, "policies", "versions", "corp")
	contains(t, out, "VERSION", "2", "1")
	out = mustRun(t, srv, "policies", "rollback", "corp", "--version", "1")
	contains(t, out, "Version:", "3", "@example.com")
	out = mustRun(t, srv, "policies", "list")
	contains(t, out, "corp", "office", "machine")

	mustRun(t, srv, "clients", "create", "--client-id", "app", "--name", "App")
	out = mustRun(t, srv, "clients", "update", "app", "--user-policy", "corp", "--machine-policy", "office")
	contains(t, out, "User policy:", "corp", "Machine policy:", "office")
	out = mustRun(t, srv, "clients", "update", "app", "--machine-policy", "", "--name", "App 2")
	contains(t, out, "App 2")
	if _, err := run(t, srv, "policies", "delete", "corp"); err == nil {
		t.Fatal("deleting an attached policy must fail")
	}
	out = mustRun(t, srv, "policies", "default", "corp")
	contains(t, out, "Default user policy:", "corp")
	mustRun(t, srv, "policies", "default", "--clear")
	mustRun(t, srv, "clients", "update", "app", "--user-policy", "")
	mustRun(t, srv, "policies", "delete", "corp")
	mustRun(t, srv, "policies", "delete", "office")

	mustRun(t, srv, "policies", "create", "--id", "svc-only", "--name", "Service users", "--kind", "access",
		"--template", "service-users-only")
	mustRun(t, srv, "services", "create", "--id", "api", "--name", "API", "--identifier", "https://api.example",
		"--scope", "api:read=Read")
	out = mustRun(t, srv, "services", "update", "api", "--access-policy", "svc-only")
	contains(t, out, "Access policy:", "svc-only")
	if _, err := run(t, srv, "services", "update", "api"); err == nil {
		t.Fatal("services update without a flag must fail")
	}
	if _, err := run(t, srv, "policies", "delete", "svc-only"); err == nil {
		t.Fatal("deleting an attached access policy must fail")
	}
	mustRun(t, srv, "services", "update", "api", "--access-policy", "")
	mustRun(t, srv, "policies", "delete", "svc-only")
}
