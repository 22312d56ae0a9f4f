package admincmd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClientClaimsCommands(t *testing.T) {
	srv := server(t)
	mustRun(t, srv, "clients", "create", "--client-id", "idp", "--name", "IdP")
	out := mustRun(t, srv, "clients", "claims", "set", "idp",
		"--claim", `cmicuser=workspace.id + "||" + user.username`, "--target", "access_token", "--target", "introspection")
	contains(t, out, "CLAIM", "cmicuser", "access_token,introspection", `workspace.id + "||" + user.username`)
	out = mustRun(t, srv, "clients", "claims", "get", "idp")
	contains(t, out, "cmicuser")

	file := filepath.Join(t.TempDir(), "claims.yaml")
	if err := os.WriteFile(file, []byte("- name: roles\n  expression: user.profiles\n  targets: [id_token, userinfo]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out = mustRun(t, srv, "clients", "claims", "set", "idp", "--file", file)
	contains(t, out, "roles", "id_token,userinfo")
	if strings.Contains(out, "cmicuser") {
		t.Fatalf("set replaces the whole list: %s", out)
	}

	// Refusals name the claim, and line and column for expressions.
	if out, err := run(t, srv, "clients", "claims", "set", "idp", "--claim", "sub=user.id"); err == nil || !strings.Contains(out+err.Error(), "reserved claim") {
		t.Fatalf("reserved claim: %q %v", out, err)
	}
	if out, err := run(t, srv, "clients", "claims", "set", "idp", "--claim", "a=user.nope"); err == nil || !strings.Contains(out+err.Error(), "line 1, column 5") {
		t.Fatalf("bad expression: %q %v", out, err)
	}
	if _, err := run(t, srv, "clients", "claims", "set", "idp"); err == nil {
		t.Fatal("set without --claim, --file or --clear must fail")
	}
	out = mustRun(t, srv, "clients", "claims", "set", "idp", "--clear")
	if strings.Contains(out, "roles") {
		t.Fatalf("--clear left claims: %s", out)
	}

	mustRun(t, srv, "services", "create", "--id", "api", "--name", "API", "--identifier", "https://api.example", "--scope", "read=Read")
	out = mustRun(t, srv, "services", "claims", "set", "api", "--claim", "tier=\"gold\"", "--target", "access_token")
	contains(t, out, "tier", "access_token", `"gold"`)
	out = mustRun(t, srv, "services", "claims", "get", "api")
	contains(t, out, "tier")
}
