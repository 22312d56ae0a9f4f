package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for schema setup

	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/server"
)

// postgresEnv names the PostgreSQL DSN the PostgreSQL variants run against.
const postgresEnv = "LATCHKEY_TEST_POSTGRES_DSN"

// stopTimeout bounds how long a stopping server may take.
const stopTimeout = 30 * time.Second

// forEachBackend runs fn against a fresh in-process server on SQLite, and
// against one on PostgreSQL (fresh schema) when postgresEnv is set.
func forEachBackend(t *testing.T, fn func(t *testing.T, lk *instance)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, startInstance(t, "")) })
	t.Run("postgres", func(t *testing.T) { fn(t, startInstance(t, postgresSchemaDSN(t))) })
}

// postgresSchemaDSN creates a fresh schema, dropped at cleanup, and
// returns a DSN whose search_path selects it. It skips the test when no
// PostgreSQL is configured.
func postgresSchemaDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv(postgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL variant skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", postgresEnv)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	schema := "lk_e2e_" + hex.EncodeToString(randomBytes(6))
	if _, err := db.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		_ = db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer func() { _ = db.Close() }()
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", postgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// instance is one running Latchkey server under test.
type instance struct {
	base   string // where requests go, e.g. http://127.0.0.1:41234
	public string // the configured public base URL ("" = base)
	admin  string // admin bearer token
	clock  *clock
	logs   *syncBuffer
	leaks  *secretList
	client *httpClient
}

// startInstance starts an in-process server on 127.0.0.1:0 with its data
// directory in t.TempDir() and storage dsn ("" = SQLite in the data
// directory). The server is stopped at the end of the test, after which
// its log is checked for leaked secrets (SECURITY.md Q6).
func startInstance(t *testing.T, dsn string) *instance {
	t.Helper()
	return startInstanceEnv(t, dsn, nil)
}

// startInstanceEnv is startInstance with extra configuration environment
// variables (LATCHKEY_*).
func startInstanceEnv(t *testing.T, dsn string, extraEnv map[string]string) *instance {
	t.Helper()
	dir := t.TempDir()
	lk := &instance{admin: "e2e-admin-" + randomToken(32), clock: &clock{}, logs: &syncBuffer{}, leaks: &secretList{}}
	lk.leaks.add(lk.admin)
	cfg := loadConfig(t, dir, dsn, lk.admin, extraEnv)
	logger := slog.New(slog.NewJSONHandler(lk.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := server.New(t.Context(), cfg, logger, server.WithStderr(lk.logs), server.WithClock(lk.clock.Now))
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	lk.base = srv.BaseURL()
	lk.client = &httpClient{leaks: lk.leaks}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server Run: %v", err)
			}
		case <-time.After(stopTimeout):
			t.Errorf("server did not stop within %s", stopTimeout)
		}
		lk.leaks.checkLog(t, "server", lk.logs.String())
	})
	return lk
}

// loadConfig resolves the configuration the way `latchkey serve` does,
// from flags and a private environment. The failed-authentication budget
// is raised because every request of a test comes from 127.0.0.1 and many
// of them fail on purpose; the rate limiter has its own unit tests.
func loadConfig(t *testing.T, dir, dsn, adminToken string, extraEnv map[string]string) config.Resolved {
	t.Helper()
	flags := map[string]string{"listen": "127.0.0.1:0", "data-dir": dir}
	if dsn != "" {
		flags["storage"] = dsn
	}
	env := map[string]string{
		"LATCHKEY_ADMIN_TOKEN":              adminToken,
		"LATCHKEY_LIMITS_FAILED_AUTH_BURST": "100000",
		"LATCHKEY_CACHE_POLL_INTERVAL":      "100ms",
	}
	maps.Copy(env, extraEnv)
	cfg, err := config.Load(config.Options{
		Flags:     flags,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		HomeDir:   func() (string, error) { return dir, nil },
	})
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	// The key scheduler is not under test here; keep it quiet.
	cfg.RotationCheckInterval = time.Hour
	return cfg
}

// issuer is the workspace's issuer URL (docs/architecture.md).
func (lk *instance) issuer(ws string) string {
	if lk.public != "" {
		return lk.public + "/w/" + ws
	}
	return lk.wsURL(ws)
}

// wsURL is where the workspace's endpoints are reached; it differs from
// the issuer only when several processes share one public base URL.
func (lk *instance) wsURL(ws string) string { return lk.base + "/w/" + ws }

// clock is the server's clock: the wall clock plus an offset that tests
// may advance, so that "later" needs no sleep.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// syncBuffer collects log output from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// secretList remembers every secret value a test handled, to prove none
// of them reached the log (SECURITY.md Q6).
type secretList struct {
	mu     sync.Mutex
	values []string
}

func (s *secretList) add(v string) {
	if len(v) < 16 { // nothing this short is a secret we issue
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values = append(s.values, v)
}

// addToken remembers a JWT and, separately, its signature: a log line
// holding only the signature would leak the token just the same.
func (s *secretList) addToken(raw string) {
	s.add(raw)
	if i := strings.LastIndexByte(raw, '.'); i >= 0 {
		s.add(raw[i+1:])
	}
}

// checkLog fails t when log contains a remembered secret (Q6). It also
// makes sure the log was captured at all, so the check cannot pass by
// looking at nothing.
func (s *secretList) checkLog(t *testing.T, who, log string) {
	t.Helper()
	if !strings.Contains(log, "latchkey listening") {
		t.Errorf("%s log was not captured (no \"latchkey listening\" line); Q6 check is void", who)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.values {
		if strings.Contains(log, v) {
			t.Errorf("Q6: %s log contains a secret value (%s...)", who, v[:8])
		}
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomToken(n int) string { return base64.RawURLEncoding.EncodeToString(randomBytes(n)) }

// readAll reads a response body, failing the test on I/O errors.
func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("read body: %v", err)
	}
	return b
}
