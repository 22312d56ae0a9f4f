package admincmd_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/cli/admincmd"
)

func TestUserSignInCommands(t *testing.T) {
	srv := server(t)
	mustRun(t, srv, "users", "create", "--id", "alice", "--username", "alice", "--email", "alice@example.com")

	setPassword := func(stdin string) (string, error) {
		cmd := admincmd.NewCommand()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetIn(strings.NewReader(stdin))
		cmd.SetArgs([]string{"--server", srv.URL, "--token", token, "users", "set-password", "alice", "--password-stdin"})
		err := cmd.Execute()
		return out.String(), err
	}
	if out, err := setPassword("correct-horse\n"); err != nil || !strings.Contains(out, "password set") {
		t.Fatalf("set-password: %v\n%s", err, out)
	}
	if out, err := setPassword("short\n"); err == nil || !strings.Contains(out, "password") {
		t.Fatalf("short password accepted: %s", out)
	}
	if _, err := setPassword(""); err == nil {
		t.Fatal("empty stdin accepted")
	}
	out := mustRun(t, srv, "users", "consents", "alice")
	contains(t, out, "CLIENT", "SCOPES")
	out = mustRun(t, srv, "users", "sessions", "alice")
	contains(t, out, "SESSION")
	mustRun(t, srv, "users", "revoke-sessions", "alice")
	if _, err := run(t, srv, "users", "revoke-consent", "alice", "nope"); err == nil {
		t.Fatal("revoking a missing consent succeeded")
	}
}
