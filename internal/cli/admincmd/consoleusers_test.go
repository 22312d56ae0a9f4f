package admincmd_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/internal/adminapi"
	"github.com/latchkey/latchkey/internal/cli/admincmd"
	"github.com/latchkey/latchkey/internal/service/servicetest"
)

// lastMail is a service.Mailer keeping the last message.
type lastMail struct {
	mu   sync.Mutex
	body string
}

func (m *lastMail) SendMail(_ context.Context, _, subject, body string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.body = subject + "\n" + body
	return nil
}

func consoleServer(t *testing.T) (*httptest.Server, *servicetest.Env, *lastMail) {
	t.Helper()
	env := servicetest.New(t)
	mb := &lastMail{}
	env.Service.Mailer = mb
	mux := http.NewServeMux()
	(&adminapi.Handler{Service: env.Service, Auth: adminapi.Auth{Static: token}}).Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, env, mb
}

// runIn runs "admin args..." with stdin.
func runIn(t *testing.T, srv *httptest.Server, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := admincmd.NewCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(append([]string{"--server", srv.URL, "--token", token}, args...))
	err := cmd.Execute()
	return out.String(), err
}

var idRe = regexp.MustCompile(`ID:\s+(adm_\S+)`)

func TestConsoleUsersCLI(t *testing.T) {
	srv, env, _ := consoleServer(t)
	const pw = "correct horse battery staple\n"
	out, err := runIn(t, srv, pw, "users", "create", "--admin", "--username", "Root", "--email", "root@example.com", "--password-stdin")
	if err != nil {
		t.Fatalf("users create --admin: %v\n%s", err, out)
	}
	contains(t, out, "root", "super_admin")
	if _, err := env.Service.AuthenticateConsoleUser(context.Background(), "root", strings.TrimSpace(pw)); err != nil {
		t.Fatalf("the created admin cannot sign in: %v", err)
	}
	out, err = runIn(t, srv, pw, "console-users", "create", "--username", "vera", "--role", "workspace_viewer",
		"--workspaces", "default", "--password-stdin")
	if err != nil {
		t.Fatalf("console-users create: %v\n%s", err, out)
	}
	m := idRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no ID in %s", out)
	}
	id := m[1]
	out, _ = runIn(t, srv, "", "console-users", "list")
	contains(t, out, "root", "vera", "workspace_viewer")
	out, err = runIn(t, srv, "", "console-users", "update", id, "--role", "workspace_admin", "--disabled")
	if err != nil {
		t.Fatalf("update: %v\n%s", err, out)
	}
	contains(t, out, "workspace_admin", "Disabled:      yes")
	out, _ = runIn(t, srv, "", "console-users", "get", id, "-o", "json")
	contains(t, out, `"disabled":true`)
	if out, err = runIn(t, srv, "another long password\n", "console-users", "set-password", id, "--password-stdin"); err != nil {
		t.Fatalf("set-password: %v\n%s", err, out)
	}
	if out, err = runIn(t, srv, "", "console-users", "delete", id); err != nil {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	contains(t, out, "deleted console user")
}

func TestConsoleUsersCLIErrors(t *testing.T) {
	srv, _, _ := consoleServer(t)
	cases := []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"no username", "long enough password\n", []string{"console-users", "create", "--password-stdin"}, "--username is required"},
		{"empty stdin", "", []string{"console-users", "create", "--username", "a", "--password-stdin"}, "no password on standard input"},
		{"no terminal for the prompt", "", []string{"console-users", "create", "--username", "a"}, "needs a terminal"},
		{"short password (service rule)", "short\n", []string{"console-users", "create", "--username", "a", "--password-stdin"}, "password: must be 12 to 256"},
		{"directory flag with --admin", "long enough password\n", []string{"users", "create", "--admin", "--username", "a", "--service-user", "--password-stdin"}, "cannot be used with --admin"},
		{"nothing to update", "", []string{"console-users", "update", "adm_x"}, "nothing to change"},
		{"unknown user", "", []string{"console-users", "get", "adm_x"}, "404"},
		{"reveal without code", "", []string{"clients", "reveal-secret", "x"}, "--code is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runIn(t, srv, tc.stdin, tc.args...)
			if err == nil || !strings.Contains(err.Error()+out, tc.want) {
				t.Fatalf("want error %q, got %v\n%s", tc.want, err, out)
			}
		})
	}
}

var mailCode = regexp.MustCompile(`code is (\d{6})`)

func TestClientSecretByCodeCLI(t *testing.T) {
	srv, _, mb := consoleServer(t)
	out, err := runIn(t, srv, "", "clients", "create", "--name", "svc", "--contact-email", "owner@example.com",
		"--grant-type", "client_credentials", "-o", "json")
	if err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	id := regexp.MustCompile(`"client_id":"([^"]+)"`).FindStringSubmatch(out)[1]
	secret := regexp.MustCompile(`"client_secret":"([^"]+)"`).FindStringSubmatch(out)[1]
	out, err = runIn(t, srv, "", "clients", "secret-code", id)
	if err != nil {
		t.Fatalf("secret-code: %v\n%s", err, out)
	}
	contains(t, out, "owner@example.com", "reveal-secret "+id)
	mb.mu.Lock()
	m := mailCode.FindStringSubmatch(mb.body)
	mb.mu.Unlock()
	if m == nil {
		t.Fatalf("no code mailed: %q", mb.body)
	}
	if out, err = runIn(t, srv, "", "clients", "reveal-secret", id, "--code", "12345x"); err == nil {
		t.Fatalf("a malformed code was accepted:\n%s", out)
	}
	out, err = runIn(t, srv, "", "clients", "reveal-secret", id, "--code", m[1])
	if err != nil {
		t.Fatalf("reveal-secret: %v\n%s", err, out)
	}
	contains(t, out, secret)
}
