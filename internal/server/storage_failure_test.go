package server

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/config"
)

// TestStorageFailureAnswers503 (docs/security.md R5): with the database
// gone, the admin API and the console answer 503 with Retry-After, as the
// OAuth endpoints do, never 500; the error text of the driver never
// reaches the wire.
func TestStorageFailureAnswers503(t *testing.T) {
	admin := strings.Repeat("a", 40)
	srv, err := New(t.Context(), testConfig(t, t.TempDir(), map[string]string{"LATCHKEY_ADMIN_TOKEN": admin}), nil, WithStderr(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	bearer := "Bearer " + admin
	tests := []struct {
		name, method, path, contentType, body, auth, cookie string
		wantError                                           string // JSON error code; "" for an HTML page
	}{
		{name: "admin list", method: "GET", path: "/admin/v1/workspaces", auth: bearer, wantError: "temporarily_unavailable"},
		{name: "admin get", method: "GET", path: "/admin/v1/workspaces/default/clients/abc", auth: bearer, wantError: "temporarily_unavailable"},
		{name: "admin create", method: "POST", path: "/admin/v1/workspaces/default/clients", contentType: "application/json",
			body: `{"name":"svc","type":"confidential","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic"}`,
			auth: bearer, wantError: "temporarily_unavailable"},
		{name: "admin delete", method: "DELETE", path: "/admin/v1/workspaces/default/clients/abc", auth: bearer, wantError: "temporarily_unavailable"},
		// A token that is not the configured one must be looked up in the
		// database: its failure is 503, not 401 charged to the caller.
		{name: "admin stored-token lookup", method: "GET", path: "/admin/v1/workspaces", auth: "Bearer " + strings.Repeat("b", 40), wantError: "temporarily_unavailable"},
		{name: "console page of a signed-in admin", method: "GET", path: "/console/w/default/clients", cookie: "latchkey_console=" + strings.Repeat("s", 43)},
		{name: "token endpoint, for comparison", method: "POST", path: "/w/default/oauth2/token", contentType: "application/x-www-form-urlencoded",
			body: "grant_type=client_credentials&client_id=abc&client_secret=x", wantError: "temporarily_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			if tt.cookie != "" {
				req.Header.Set("Cookie", tt.cookie)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503: %s", rec.Code, body)
			}
			if strings.Contains(body, "sql") {
				t.Fatalf("driver text on the wire: %s", body)
			}
			if tt.wantError == "" {
				if !strings.Contains(body, "temporarily unavailable") || rec.Header().Get("Retry-After") == "" {
					t.Fatalf("console page: Retry-After %q, body %s", rec.Header().Get("Retry-After"), body)
				}
				return
			}
			var doc struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Error != tt.wantError || doc.Description == "" {
				t.Fatalf("body %s, want error %q with a description", body, tt.wantError)
			}
			if rec.Header().Get("Retry-After") != retryAfterAdmin {
				t.Fatalf("Retry-After %q, want %q (the OAuth endpoints and the admin API agree)", rec.Header().Get("Retry-After"), retryAfterAdmin)
			}
		})
	}
}

// retryAfterAdmin is the Retry-After the admin API sends on a storage
// failure.
const retryAfterAdmin = "2"

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
func TestWriteUnderForeignLockFailsWithoutCommitting(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		cfg := testConfig(t, t.TempDir(), map[string]string{"LATCHKEY_ADMIN_TOKEN": strings.Repeat("a", 40)})
		foreignLockScenario(t, cfg, func() func() { return holdSQLiteWriteLock(t, cfg.SQLitePath) })
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("LATCHKEY_TEST_POSTGRES_DSN")
		if base == "" {
			t.Skip("LATCHKEY_TEST_POSTGRES_DSN not set")
		}
		dsn := postgresSchema(t, base)
		cfg := testConfig(t, t.TempDir(), map[string]string{"LATCHKEY_ADMIN_TOKEN": strings.Repeat("a", 40), "LATCHKEY_STORAGE": dsn})
		foreignLockScenario(t, cfg, func() func() { return holdPostgresLocks(t, dsn) })
	})
}

func foreignLockScenario(t *testing.T, cfg config.Resolved, hold func() (release func())) {
	const deadline = 500 * time.Millisecond
	r := start(t, cfg, WithRequestDeadlines(deadline, deadline))
	bearer := map[string]string{"Authorization": "Bearer " + cfg.AdminToken}
	createBody := func(name string) string {
		return `{"name":"` + name + `","type":"confidential","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic"}`
	}

	release := hold()

	began := time.Now()
	resp, body := sendJSON(t, "POST", r.url("/admin/v1/workspaces/default/clients"), createBody("refused-under-lock"), bearer)
	took := time.Since(began)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"error":"temporarily_unavailable"`) {
		t.Fatalf("create client under a foreign lock: %d %s, want 503 temporarily_unavailable", resp.StatusCode, body)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if took > deadline+3*time.Second {
		t.Errorf("503 after %v; the deadline is %v", took, deadline)
	}
	waitReady(t, r, http.StatusServiceUnavailable)

	release()

	waitReady(t, r, http.StatusOK)
	if resp, body := get(t, r.url("/admin/v1/workspaces/default/clients"), bearer); resp.StatusCode != 200 || strings.Contains(body, "refused-under-lock") {
		t.Fatalf("after the lock: %d %s; the refused client must not exist", resp.StatusCode, body)
	}
	if resp, body := sendJSON(t, "POST", r.url("/admin/v1/workspaces/default/clients"), createBody("after-lock"), bearer); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create client after the lock: %d %s", resp.StatusCode, body)
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
// readyCacheFor, so a change shows within about a second. It fails the
// test if the answer does not come within ten seconds.
func waitReady(t *testing.T, r *running, want int) {
	t.Helper()
	var last string
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		resp, body := get(t, r.url("/readyz"), nil)
		if resp.StatusCode == want {
			return
		}
		last = body
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("/readyz never answered %d; last: %s", want, last)
}

// sendJSON makes one request with a JSON body.
func sendJSON(t *testing.T, method, url, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

// TestRequestDeadlines (docs/security.md R6): every request's context
// carries the deadline of its kind, so every storage call under it does.
func TestRequestDeadlines(t *testing.T) {
	var logs bytes.Buffer
	seen := map[string]time.Time{}
	h := newTestMiddleware(t, &logs, func(mux *http.ServeMux) {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			d, ok := r.Context().Deadline()
			if !ok {
				d = time.Time{}
			}
			seen[r.URL.Path] = d
		})
	}).(*middleware)
	h.deadlines = requestDeadlines{admin: AdminRequestDeadline, protocol: ProtocolRequestDeadline}
	tests := []struct {
		path string
		want time.Duration
	}{
		{"/admin/v1/workspaces", AdminRequestDeadline},
		{"/console", AdminRequestDeadline},
		{"/console/w/default/clients", AdminRequestDeadline},
		{"/consolex", ProtocolRequestDeadline},
		{"/w/default/oauth2/token", ProtocolRequestDeadline},
		{"/w/default/authorize", ProtocolRequestDeadline},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			before := time.Now()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", tt.path, nil))
			got := seen[tt.path]
			if got.Before(before.Add(tt.want)) || got.After(time.Now().Add(tt.want)) {
				t.Fatalf("deadline %v from the start of the request, want %v", got.Sub(before), tt.want)
			}
		})
	}
}
