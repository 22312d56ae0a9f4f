package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema step, e.g. migrations/0001_init.sql.
type migration struct {
	version    int
	name       string
	statements []string
	// step, when set, runs after the statements in the same transaction:
	// data changes that cannot be written in SQL both backends accept.
	step func(ctx context.Context, s *Store, tx conn) error
}

// migrationSteps are the Go parts of migrations, by version.
var migrationSteps = map[int]func(ctx context.Context, s *Store, tx conn) error{
	6: migrateJWTBearerDefault,
}

// migrationLockID is the PostgreSQL advisory lock key that serializes
// migrations of processes starting at once ("latchkey" in ASCII).
const migrationLockID int64 = 0x6c617463686b6579

// loadMigrations reads the embedded files, ordered by version.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, name := range names {
		m, err := parseMigration(name)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("sqlstore: migrations must be numbered 1..n without gaps, found %s", m.name)
		}
	}
	return out, nil
}

func parseMigration(name string) (migration, error) {
	base := path.Base(name)
	num, _, ok := strings.Cut(base, "_")
	v, err := strconv.Atoi(num)
	if !ok || err != nil || v <= 0 {
		return migration{}, fmt.Errorf("sqlstore: migration file %s is not named NNNN_name.sql", base)
	}
	body, err := migrationFiles.ReadFile(name)
	if err != nil {
		return migration{}, err
	}
	return migration{version: v, name: base, statements: splitStatements(string(body)), step: migrationSteps[v]}, nil
}

// splitStatements splits a migration at semicolons that end a line. Our
// migration files keep one statement per semicolon-terminated block and no
// semicolons inside literals or comments.
func splitStatements(body string) []string {
	var out []string
	for _, part := range strings.Split(body, ";\n") {
		if stmt := strings.TrimSpace(stripComments(part)); stmt != "" {
			out = append(out, stmt)
		}
	}
	return out
}

func stripComments(s string) string {
	lines := strings.Split(s, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}

// LatestSchemaVersion is the version the embedded migrations lead to.
func LatestSchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    applied_at BIGINT NOT NULL
)`

// Migrate applies every embedded migration the database has not seen, each
// in its own transaction. It is safe when several processes call it at
// once: PostgreSQL holds a session advisory lock for the whole run; SQLite
// transactions begin IMMEDIATE, so the second process waits, then finds the
// work done.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer c.Close()
	if s.flavor.name == flavorPostgres.name {
		unlock, err := advisoryLock(ctx, c)
		if err != nil {
			return err
		}
		defer unlock()
	}
	for _, m := range ms {
		if err := s.applyMigration(ctx, c, m); err != nil {
			return err
		}
	}
	return nil
}

func advisoryLock(ctx context.Context, c *sql.Conn) (func(), error) {
	if _, err := c.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockID); err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: take advisory lock: %w", err)
	}
	return func() {
		// A fresh context: the caller's may be cancelled, and a leaked
		// session lock would block every later migration on this pooled
		// connection's server session.
		_, _ = c.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLockID)
	}, nil
}

// applyMigration runs m unless already applied, in one transaction that
// also records it.
func (s *Store) applyMigration(ctx context.Context, c *sql.Conn, m migration) error {
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	t := conn{q: tx, fl: s.flavor}
	if _, err := t.exec(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("sqlstore: migrate: create schema_migrations: %w", err)
	}
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	if n > 0 {
		return nil
	}
	for _, stmt := range m.statements {
		if _, err := t.exec(ctx, stmt); err != nil {
			return fmt.Errorf("sqlstore: migration %s: %w", m.name, err)
		}
	}
	if m.step != nil {
		if err := m.step(ctx, s, t); err != nil {
			return fmt.Errorf("sqlstore: migration %s: %w", m.name, err)
		}
	}
	if _, err := t.exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.version, toMillis(s.now())); err != nil {
		return fmt.Errorf("sqlstore: migration %s: record: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: migration %s: commit: %w", m.name, err)
	}
	s.logger.InfoContext(ctx, "sqlstore: applied migration", "version", m.version, "name", m.name)
	return nil
}

// SchemaVersion returns the highest applied migration (0 for an empty
// database).
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var exists int
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if s.flavor.name == flavorPostgres.name {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'`
	}
	if err := s.db.QueryRowContext(ctx, q).Scan(&exists); err != nil {
		return 0, fmt.Errorf("sqlstore: schema version: %w", err)
	}
	if exists == 0 {
		return 0, nil
	}
	var v sql.NullInt64
	if err := s.reader().queryRow(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlstore: schema version: %w", err)
	}
	return int(v.Int64), nil
}
