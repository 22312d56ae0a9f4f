package e2e

import (
	"bufio"
	"context"
	"database/sql"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
	"github.com/latchkey/latchkey/internal/server"
)

// lockHolderEnv names the SQLite file the helper process locks.
const lockHolderEnv = "LATCHKEY_TEST_HOLD_SQLITE_LOCK"

// TestHelperHoldSQLiteLock is not a test: run as a child process by
// holdSQLiteWriteLock, it takes the database's write lock with BEGIN
// IMMEDIATE, prints "locked", and holds it until its stdin closes.
func TestHelperHoldSQLiteLock(t *testing.T) {
	path := os.Getenv(lockHolderEnv)
	if path == "" {
		t.Skip("helper process only")
	}
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	_, _ = io.Copy(io.Discard, os.Stdin)
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
}

// holdSQLiteWriteLock starts a second OS process (this test binary) that
// holds the write lock of the SQLite database at path, and returns once
// it holds it. The returned function releases the lock and waits for the
// process to exit.
func holdSQLiteWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldSQLiteLock$", "-test.v")
	cmd.Env = append(os.Environ(), lockHolderEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	released := false
	release = func() {
		if released {
			return
		}
		released = true
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("lock holder: %v", err)
		}
	}
	t.Cleanup(release)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if sc.Text() == "locked" {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return release
		}
	}
	t.Fatalf("lock holder exited before taking the lock: %v", sc.Err())
	return nil
}

// TestWriteUnderForeignLockFailsWithoutCommitting (docs/security.md R6,
// R7): while another process holds the database's write lock for longer
// than the request deadline (SQLite: a second OS process in BEGIN
// IMMEDIATE; PostgreSQL: another session holding table locks that every
// write of a client and the readiness probe need), an admin POST answers
// 503 temporarily_unavailable within the deadline (plus slack for a
// loaded machine) and /readyz answers 503; once the lock is released the
// refused client does not exist (its transaction was rolled back, not
// committed late), /readyz answers 200 again and the same POST succeeds.
// It waits out real deadlines and the readiness cache (about three
// seconds), so it lives here rather than in the server package.
func TestWriteUnderForeignLockFailsWithoutCommitting(t *testing.T) {
	// The two run in parallel: each spends its time waiting out deadlines
	// and the readiness cache.
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		cfg := e2etest.LoadConfig(t, e2etest.Config{DataDir: t.TempDir(), AdminToken: strings.Repeat("a", 40)})
		foreignLockScenario(t, cfg, func() func() { return holdSQLiteWriteLock(t, cfg.SQLitePath) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := postgresSchemaDSN(t)
		cfg := e2etest.LoadConfig(t, e2etest.Config{DataDir: t.TempDir(), DSN: dsn, AdminToken: strings.Repeat("a", 40)})
		foreignLockScenario(t, cfg, func() func() { return holdPostgresLocks(t, dsn) })
	})
}

func foreignLockScenario(t *testing.T, cfg config.Resolved, hold func() (release func())) {
	const deadline = 500 * time.Millisecond
	srv := e2etest.StartServer(t, cfg, time.Now, io.Discard, server.WithRequestDeadlines(deadline, deadline))
	t.Cleanup(func() { srv.Stop(t) })
	c := &httpClient{}
	admin := func(method string, body any) reply {
		return c.do(t, e2etest.AdminRequest(t, srv.BaseURL, cfg.AdminToken, method, "/workspaces/default/clients", body))
	}
	createBody := func(name string) map[string]any {
		return map[string]any{"name": name, "type": "confidential", "grant_types": []string{"client_credentials"},
			"token_endpoint_auth_method": "client_secret_basic"}
	}

	release := hold()

	began := time.Now()
	r := admin(http.MethodPost, createBody("refused-under-lock"))
	took := time.Since(began)
	if r.status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" {
		t.Fatalf("create client under a foreign lock: %d %s, want 503 temporarily_unavailable", r.status, r.raw)
	}
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if took > deadline+3*time.Second {
		t.Errorf("503 after %v; the deadline is %v", took, deadline)
	}
	waitReady(t, c, srv.BaseURL, http.StatusServiceUnavailable)

	release()

	waitReady(t, c, srv.BaseURL, http.StatusOK)
	if r := admin(http.MethodGet, nil); r.status != http.StatusOK || strings.Contains(string(r.raw), "refused-under-lock") {
		t.Fatalf("after the lock: %d %s; the refused client must not exist", r.status, r.raw)
	}
	if r := admin(http.MethodPost, createBody("after-lock")); r.status != http.StatusCreated {
		t.Fatalf("create client after the lock: %d %s", r.status, r.raw)
	}
}

// holdPostgresLocks takes, in another session, EXCLUSIVE locks on the
// tables a client insert and the readiness probe write (reads still
// pass), and returns the function that rolls them back.
func holdPostgresLocks(t *testing.T, dsn string) (release func()) {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(t.Context(), "LOCK TABLE clients, schema_migrations IN EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	released := false
	release = func() {
		if !released {
			released = true
			_ = tx.Rollback()
			db.Close()
		}
	}
	t.Cleanup(release)
	return release
}

// waitReady polls /readyz until it answers want: its result is cached for
// the server's readyCacheFor, so a change shows within about a second. It
// fails the test if the answer does not come within ten seconds.
func waitReady(t *testing.T, c *httpClient, base string, want int) {
	t.Helper()
	var last []byte
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		r := c.get(t, base+"/readyz")
		if r.status == want {
			return
		}
		last = r.raw
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("/readyz never answered %d; last: %s", want, last)
}
