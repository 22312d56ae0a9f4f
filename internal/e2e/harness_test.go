package e2e

import (
	"errors"
	"io"
	"testing"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// forEachBackend runs fn against a fresh in-process server on SQLite, and
// against one on PostgreSQL (fresh schema) when e2etest.PostgresEnv is set.
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
	return e2etest.PostgresSchemaDSN(t, "lk_e2e_")
}

// instance is one running Latchkey server under test.
type instance struct {
	base   string // where requests go, e.g. http://127.0.0.1:41234
	public string // the configured public base URL ("" = base)
	admin  string // admin bearer token
	clock  *e2etest.Clock
	logs   *e2etest.SyncBuffer
	leaks  *e2etest.SecretList
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
	lk := &instance{admin: "e2e-admin-" + e2etest.RandomToken(32), clock: &e2etest.Clock{},
		logs: &e2etest.SyncBuffer{}, leaks: &e2etest.SecretList{}}
	lk.leaks.Add(lk.admin)
	cfg := e2etest.LoadConfig(t, e2etest.Config{DataDir: t.TempDir(), DSN: dsn, AdminToken: lk.admin, Env: extraEnv})
	srv := e2etest.StartServer(t, cfg, lk.clock.Now, lk.logs)
	lk.base = srv.BaseURL
	lk.client = &httpClient{leaks: lk.leaks}
	t.Cleanup(func() {
		srv.Stop(t)
		lk.leaks.CheckLog(t, "server", lk.logs.String())
	})
	return lk
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

// readAll reads a response body, failing the test on I/O errors.
func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("read body: %v", err)
	}
	return b
}
