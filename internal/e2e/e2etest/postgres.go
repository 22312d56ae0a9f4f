package e2etest

import (
	"context"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for schema setup
)

// PostgresEnv names the PostgreSQL DSN the PostgreSQL variants and the
// multi-process tests run against.
const PostgresEnv = "LATCHKEY_TEST_POSTGRES_DSN"

const postgresExample = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// SkipWithoutPostgres skips the test, saying that what needs PostgreSQL,
// when PostgresEnv is unset.
func SkipWithoutPostgres(t testing.TB, what string) {
	t.Helper()
	if os.Getenv(PostgresEnv) == "" {
		t.Skipf("%s skipped: it needs PostgreSQL; set %s (e.g. %s)", what, PostgresEnv, postgresExample)
	}
}

// PostgresSchemaDSN creates a fresh schema named prefix plus random hex,
// dropped at cleanup, and returns a DSN whose search_path selects it. It
// skips the test when no PostgreSQL is configured.
func PostgresSchemaDSN(t testing.TB, prefix string) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL variant skipped: set %s (e.g. %s)", PostgresEnv, postgresExample)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	schema := prefix + hex.EncodeToString(RandomBytes(6))
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
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
