package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage/sqlstore"
)

// run executes the command tree with args and returns stdout and the error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := NewRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

func TestVersion(t *testing.T) {
	out, err := run(t, "version")
	if err != nil || !strings.HasPrefix(out, "latchkey ") {
		t.Fatalf("version: %q %v", out, err)
	}
}

func TestServeRejectsBadConfigWithEveryProblem(t *testing.T) {
	_, err := run(t, "serve", "--listen", "nope", "--log-level", "loud", "--storage", "mysql://x", "--data-dir", t.TempDir())
	if err == nil {
		t.Fatal("serve accepted a bad configuration")
	}
	for _, want := range []string{"listen:", "log.level:", "storage:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestArgumentWithLeadingDashHint(t *testing.T) {
	_, err := run(t, "admin", "certificates", "remove", "app", "-Ab3")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "goes after '--'") {
		t.Fatalf("err = %v, want a usage error that says how to pass an argument beginning with '-'", err)
	}
}

func TestUnknownFlagIsUsageError(t *testing.T) {
	_, err := run(t, "serve", "--no-such-flag")
	var ue usageError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v (%T), want a usage error", err, err)
	}
}

func TestMigrate(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sub", "l.db")
	latest := sqlstore.LatestSchemaVersion()

	out, err := run(t, "migrate", "status", "--storage", "sqlite:"+db)
	if err != nil || !strings.Contains(out, "does not exist yet") {
		t.Fatalf("status before migrate: %q %v", out, err)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("migrate status created the database")
	}
	out, err = run(t, "migrate", "--storage", "sqlite:"+db)
	if err != nil || !strings.Contains(out, "up to date") || !strings.Contains(out, "storage: sqlite") {
		t.Fatalf("migrate: %q %v", out, err)
	}
	out, err = run(t, "migrate", "status", "--storage", "sqlite:"+db)
	wantVersion := regexp.MustCompile(`schema version: (\d+) \(latest (\d+)\)`).FindStringSubmatch(out)
	if err != nil || wantVersion == nil || wantVersion[1] != wantVersion[2] || latest == 0 {
		t.Fatalf("status after migrate: %q %v (latest %d)", out, err, latest)
	}
}

func TestMigratePostgres(t *testing.T) {
	dsn := os.Getenv("LATCHKEY_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("LATCHKEY_TEST_POSTGRES_DSN is not set; skipping the PostgreSQL migrate test")
	}
	out, err := run(t, "migrate", "--storage", dsn)
	if err != nil || !strings.Contains(out, "storage: postgres") || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: %q %v", out, err)
	}
}

// TestServeBinary builds the real binary and runs `latchkey serve` as a
// subprocess: it starts on a free port with SQLite in a temporary data
// directory, prints the bootstrap token once, answers /healthz and
// /readyz, and exits 0 on SIGTERM.
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json")
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	addr, printed := readStartup(t, stderr)
	if !printed {
		t.Error("bootstrap admin token was not printed on first start")
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd)
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "latchkey")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/latchkey/latchkey/cmd/latchkey")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cleanEnv is the test process environment without LATCHKEY_* settings
// that would change what serve does.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCHKEY_") {
			env = append(env, kv)
		}
	}
	return env
}

// readStartup reads stderr until the "latchkey listening" log line and
// returns its address, and whether a bootstrap token was printed before.
// It keeps draining stderr afterwards so the child never blocks on it.
func readStartup(t *testing.T, r io.Reader) (addr string, tokenPrinted bool) {
	t.Helper()
	type startup struct {
		addr  string
		token bool
	}
	found := make(chan startup, 1)
	tokenRe := regexp.MustCompile(`LATCHKEY_ADMIN_TOKEN=lka_[A-Za-z0-9_-]{43}`)
	go func() {
		sc := bufio.NewScanner(r)
		token, sent := false, false
		for sc.Scan() {
			line := sc.Text()
			token = token || tokenRe.MatchString(line)
			var entry struct{ Msg, Addr string }
			if !sent && json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "latchkey listening" {
				found <- startup{entry.Addr, token}
				sent = true
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case s, ok := <-found:
		if !ok {
			t.Fatal("serve exited before listening")
		}
		return s.addr, s.token
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start listening")
	}
	return "", false
}

func waitExit(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit after SIGTERM")
	}
}

func TestConfigCommands(t *testing.T) {
	out, err := run(t, "config", "reference")
	if err != nil || !strings.Contains(out, "`LATCHKEY_LISTEN`") || !strings.Contains(out, "`--base-url`") {
		t.Fatalf("reference: %v\n%s", err, out)
	}
	out, err = run(t, "config", "check", "--data-dir", t.TempDir(), "--base-url", "https://id.example")
	if err != nil || !strings.Contains(out, "configuration is valid") || !strings.Contains(out, "https://id.example") {
		t.Fatalf("check: %q %v", out, err)
	}
	if _, err := run(t, "config", "check", "--base-url", "https://id.example/", "--log-format", "xml"); err == nil ||
		!strings.Contains(err.Error(), "base_url:") || !strings.Contains(err.Error(), "log.format:") {
		t.Fatalf("check of a bad config: %v", err)
	}
}
