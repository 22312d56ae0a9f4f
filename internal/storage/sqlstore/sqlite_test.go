package sqlstore

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/storage/conformance"
)

func newSQLite(t *testing.T) storage.Storage {
	t.Helper()
	s, err := Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "latchkey.db"), nil)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	return s
}

func newSQLiteMemory(t *testing.T) storage.Storage {
	t.Helper()
	s, err := Open(t.Context(), "sqlite::memory:", nil)
	if err != nil {
		t.Fatalf("open in-memory sqlite: %v", err)
	}
	return s
}

func TestSQLiteConformance(t *testing.T) {
	conformance.RunTests(t, newSQLite)
}

func TestSQLiteTenantIsolation(t *testing.T) {
	conformance.RunTenantIsolationTests(t, newSQLite)
}

func TestSQLiteConsole(t *testing.T) {
	conformance.RunConsoleTests(t, newSQLite)
}

func TestSQLiteConcurrency(t *testing.T) {
	conformance.RunConcurrencyTests(t, newSQLite)
}

func TestSQLiteDirectory(t *testing.T) {
	conformance.RunDirectoryTests(t, newSQLite)
	conformance.RunDirectoryIsolationTests(t, newSQLite)
}

// The single-connection in-memory mode must honour the same contract.
func TestSQLiteMemoryConformance(t *testing.T) {
	conformance.RunTests(t, newSQLiteMemory)
	conformance.RunConcurrencyTests(t, newSQLiteMemory)
}

func TestSQLitePragmas(t *testing.T) {
	s := newSQLite(t).(*Store)
	defer s.Close()
	ctx := t.Context()
	checks := []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	}
	for _, c := range checks {
		var got string
		if err := s.db.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", c.pragma, err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %q, want %q", c.pragma, got, c.want)
		}
	}
}

// Two processes starting at once on one fresh database both succeed.
func TestSQLiteConcurrentMigrate(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "latchkey.db")
	testConcurrentMigrate(t, func(ctx context.Context) (*Store, error) { return Open(ctx, dsn, nil) })
}

func testConcurrentMigrate(t *testing.T, open func(context.Context) (*Store, error)) {
	t.Helper()
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = open(t.Context()) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		defer stores[i].Close()
	}
	v, err := stores[0].SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v != LatestSchemaVersion() || v < 1 {
		t.Fatalf("SchemaVersion = %d, want %d", v, LatestSchemaVersion())
	}
	var rows int
	if err := stores[0].reader().queryRow(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != v {
		t.Fatalf("schema_migrations has %d rows, want %d (a migration ran twice?)", rows, v)
	}
	// Migrating again is a no-op.
	if err := stores[1].Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
}

func TestOpenWithoutMigrate(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "latchkey.db")
	s, err := Open(t.Context(), dsn, nil, WithoutMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, err := s.SchemaVersion(t.Context())
	if err != nil || v != 0 {
		t.Fatalf("SchemaVersion of an unmigrated database = %d, %v; want 0, nil", v, err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.SchemaVersion(t.Context()); v != LatestSchemaVersion() {
		t.Fatalf("SchemaVersion after Migrate = %d", v)
	}
}

func TestOpenRejectsBadDSN(t *testing.T) {
	for _, dsn := range []string{"", "sqlite:", "sqlite:/tmp/x.db?_pragma=foo", "mysql://root@localhost/db"} {
		if s, err := Open(t.Context(), dsn, nil); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}

func TestRedactDSN(t *testing.T) {
	got := redactDSN("postgres://user:secret@db:5432/x")
	if got != "postgres://user:xxxxx@db:5432/x" {
		t.Fatalf("redactDSN = %q", got)
	}
}
