package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/storage/conformance"
)

const postgresEnv = "LATCHKEY_TEST_POSTGRES_DSN"

// postgresBase is the DSN of the test database; without one the test is
// skipped.
func postgresBase(t testing.TB) string {
	t.Helper()
	base := os.Getenv(postgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", postgresEnv)
	}
	return base
}

// postgresSchemaDSN creates a fresh schema for one test, dropped at
// cleanup, and returns a DSN whose search_path selects it.
func postgresSchemaDSN(t testing.TB) string {
	t.Helper()
	base := postgresBase(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	schema := newSchemaName()
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
	return schemaDSN(t, base, schema)
}

// newSchemaName returns a random name for a test schema.
func newSchemaName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "lk_test_" + hex.EncodeToString(b[:])
}

// schemaDSN is base with a search_path that selects schema.
func schemaDSN(t testing.TB, base, schema string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", postgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// newPostgres opens a store on an empty, migrated schema from
// pooledSchemas. The conformance suites open one per subtest: migrating a
// fresh schema each time (the migration lock serializes them) was most of
// this package's test time. The PostgreSQL suites call t.Parallel: they
// mostly wait on the database server, so they overlap the SQLite tests.
func newPostgres(t *testing.T) storage.Storage {
	t.Helper()
	dsn := pooledSchemas.take(t)
	s, err := Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	return s
}

// schemaPool hands out migrated schemas and takes them back emptied, so
// each is migrated once per test run. Tests that migrate, lock or alter a
// schema themselves use postgresSchemaDSN instead.
type schemaPool struct {
	mu    sync.Mutex
	admin *sql.DB
	free  []string // schema names, migrated and empty
	all   []string // every schema made, dropped by TestMain
}

var pooledSchemas schemaPool

// take returns the DSN of an empty migrated schema, given back (emptied)
// when t ends. Register it before opening the store: cleanups run last
// first, so the store is closed before its schema is emptied.
func (p *schemaPool) take(t *testing.T) string {
	t.Helper()
	base := postgresBase(t)
	schema, err := p.schema(t.Context(), base)
	if err != nil {
		t.Fatalf("postgres schema: %v", err)
	}
	t.Cleanup(func() { p.giveBack(t, schema) })
	return schemaDSN(t, base, schema)
}

// schema pops a free schema, or creates and migrates a new one.
func (p *schemaPool) schema(ctx context.Context, base string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.admin == nil {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return "", err
		}
		p.admin = admin
	}
	if n := len(p.free); n > 0 {
		schema := p.free[n-1]
		p.free = p.free[:n-1]
		return schema, nil
	}
	schema := newSchemaName()
	if _, err := p.admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", err
	}
	p.all = append(p.all, schema)
	return schema, nil
}

// giveBack empties schema (every table but schema_migrations, sequences
// restarted), so it is as a fresh migration leaves it, and returns it to
// the pool. A schema that cannot be emptied is not reused: the next test
// gets a fresh one, and TestMain drops it.
func (p *schemaPool) giveBack(t *testing.T, schema string) {
	ctx := context.Background()
	tables, err := schemaTables(ctx, p.admin, schema)
	if err == nil {
		err = emptyTables(ctx, p.admin, schema, tables)
	}
	if err != nil {
		t.Logf("schema %s not reused: %v", schema, err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, schema)
}

// schemaTables lists the tables of schema that hold data, qualified and
// quoted.
func schemaTables(ctx context.Context, admin *sql.DB, schema string) ([]string, error) {
	rows, err := admin.QueryContext(ctx, `SELECT quote_ident(table_name) FROM information_schema.tables
WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'`, schema)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		tables = append(tables, schema+"."+name)
	}
	return tables, rows.Err()
}

// emptyTables deletes every row of tables and restarts the schema's
// sequences, in one transaction with foreign-key triggers off (so the
// order of the tables does not matter). On tables this small, DELETE is
// several times faster than TRUNCATE, which makes new files for every
// table and index.
func emptyTables(ctx context.Context, admin *sql.DB, schema string, tables []string) error {
	var b strings.Builder
	b.WriteString("BEGIN; SET LOCAL session_replication_role = replica;")
	for _, table := range tables {
		b.WriteString(" DELETE FROM " + table + ";")
	}
	b.WriteString(" SELECT setval(format('%I.%I', sequence_schema, sequence_name)::regclass, 1, false)" +
		" FROM information_schema.sequences WHERE sequence_schema = '" + schema + "'; COMMIT")
	_, err := admin.ExecContext(ctx, b.String())
	return err
}

// dropAll drops every schema the pool made.
func (p *schemaPool) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.admin == nil {
		return
	}
	for _, schema := range p.all {
		if _, err := p.admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "drop schema %s: %v\n", schema, err)
		}
	}
	p.admin.Close()
}

func TestMain(m *testing.M) {
	code := m.Run()
	pooledSchemas.dropAll()
	os.Exit(code)
}

func TestPostgresConformance(t *testing.T) {
	t.Parallel()
	conformance.RunTests(t, newPostgres)
}

func TestPostgresTenantIsolation(t *testing.T) {
	t.Parallel()
	conformance.RunTenantIsolationTests(t, newPostgres)
}

func TestPostgresConsole(t *testing.T) {
	t.Parallel()
	conformance.RunConsoleTests(t, newPostgres)
}

func TestPostgresConcurrency(t *testing.T) {
	t.Parallel()
	conformance.RunConcurrencyTests(t, newPostgres)
}

func TestPostgresDirectory(t *testing.T) {
	t.Parallel()
	conformance.RunDirectoryTests(t, newPostgres)
	conformance.RunDirectoryIsolationTests(t, newPostgres)
}

func TestPostgresConcurrentMigrate(t *testing.T) {
	dsn := postgresSchemaDSN(t)
	testConcurrentMigrate(t, func(ctx context.Context) (*Store, error) { return Open(ctx, dsn, nil) })
}

// openPostgresStore opens a store in an empty schema with workspace "ws".
func openPostgresStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), pooledSchemas.take(t), nil)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.CreateWorkspace(t.Context(), storage.Workspace{ID: "ws", Name: "ws", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	return s
}
