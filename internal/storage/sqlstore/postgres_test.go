package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/storage/conformance"
)

const postgresEnv = "LATCHKEY_TEST_POSTGRES_DSN"

// postgresSchemaDSN creates a fresh schema for one test, dropped at
// cleanup, and returns a DSN whose search_path selects it.
func postgresSchemaDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(postgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", postgresEnv)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "lk_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
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

func newPostgres(t *testing.T) storage.Storage {
	t.Helper()
	dsn := postgresSchemaDSN(t)
	s, err := Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	return s
}

func TestPostgresConformance(t *testing.T) {
	conformance.RunTests(t, newPostgres)
}

func TestPostgresTenantIsolation(t *testing.T) {
	conformance.RunTenantIsolationTests(t, newPostgres)
}

func TestPostgresConsole(t *testing.T) {
	conformance.RunConsoleTests(t, newPostgres)
}

func TestPostgresConcurrency(t *testing.T) {
	conformance.RunConcurrencyTests(t, newPostgres)
}

func TestPostgresDirectory(t *testing.T) {
	conformance.RunDirectoryTests(t, newPostgres)
	conformance.RunDirectoryIsolationTests(t, newPostgres)
}

func TestPostgresConcurrentMigrate(t *testing.T) {
	dsn := postgresSchemaDSN(t)
	testConcurrentMigrate(t, func(ctx context.Context) (*Store, error) { return Open(ctx, dsn, nil) })
}

// openPostgresStore opens a store in a fresh schema with workspace "ws".
func openPostgresStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), postgresSchemaDSN(t), nil)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.CreateWorkspace(t.Context(), storage.Workspace{ID: "ws", Name: "ws", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	return s
}
