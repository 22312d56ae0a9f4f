package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	// Database drivers: pure Go, so the binary needs no cgo.
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/latchkey/latchkey/internal/storage"
)

// Store is the database/sql implementation of storage.Storage.
type Store struct {
	db     *sql.DB
	flavor flavor
	logger *slog.Logger
	now    func() time.Time
	// wl serializes this process's SQLite writes (nil on PostgreSQL).
	wl writeLock
	// jtiBatch group-commits UseJTI: one transaction of statements on
	// SQLite, one multi-row statement on PostgreSQL.
	jtiBatch *batcher[storage.JTI]
	// jtiStmt is useJTIQuery prepared on the pool (SQLite only).
	jtiStmt *lazyStmt
	// revokedStmt is isRevokedQuery prepared on the pool (SQLite only).
	revokedStmt *lazyStmt
	// revokedReads coalesces concurrent IsTokenRevoked calls (PostgreSQL
	// only), and revokedAmong prepares their multi-jti query on SQLite
	// when a test turns it on (revokedreads.go).
	revokedReads *revokedReads
	revokedAmong revokedAmongStmts
	// stmts prepares the rotation and redemption statements once
	// (SQLite only; stmtcache.go).
	stmts *stmtCache
	// statusBatch group-commits RecordStatusFamily (statusbatch.go).
	statusBatch *batcher[statusTie]
	// opaqueBatch group-commits CreateOpaqueToken (opaque.go).
	opaqueBatch *batcher[storage.OpaqueToken]
	// rotateBatch group-commits RotateRefreshToken (grantbatch.go).
	rotateBatch *batcher[*rotateCall]
	// redeemBatch group-commits RedeemAuthCode (grantbatch.go).
	redeemBatch *batcher[codeRedemption]
}

var _ storage.Storage = (*Store)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	migrate bool
	now     func() time.Time
}

// WithoutMigrate makes Open skip schema migrations (for `latchkey migrate`
// status commands, or deployments that migrate in a separate step).
func WithoutMigrate() Option {
	return func(o *options) { o.migrate = false }
}

// WithClock sets the clock used for change-event times and for the expiry
// checks of UseJTI. Tests use it; production uses time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// jtiBatchMax bounds one group commit of UseJTI: large enough to absorb
// the requests that arrive during one fsync at thousands of tokens per
// second, small enough that one transaction stays short.
const jtiBatchMax = 128

// jtiLinger and jtiLingerMin: under load, a group commit of fewer than
// jtiLingerMin UseJTI calls waits until its oldest call is jtiLinger old
// or jtiLingerMin calls are queued (see batcher). A millisecond is well
// below an RS256 signature under load, which the JWT bearer grant computes
// meanwhile; with ES256 tokens, batches of eight halved the CPU per token
// of batches of one.
const (
	jtiLinger    = time.Millisecond
	jtiLingerMin = 8
)

// batchTimeout bounds one group-commit transaction whose callers have no
// earlier deadline (see batcher.flushDeadline); it is longer than the
// SQLite busy timeout so that waiting for another process's write lock
// fails with SQLITE_BUSY first.
const batchTimeout = 30 * time.Second

// sqliteBusyTimeout is how long a SQLite connection waits for the write
// lock before reporting SQLITE_BUSY. The driver (modernc.org/sqlite)
// ends the wait earlier when the call's context ends, so a request waits
// no longer than its deadline (docs/security.md R6).
const sqliteBusyTimeout = 10 * time.Second

// Open connects to the database named by dsn and, unless WithoutMigrate is
// given, brings its schema up to date. dsn is "postgres://..." or
// "postgresql://..." for PostgreSQL, or "sqlite:PATH" or a plain file path
// for SQLite ("sqlite::memory:" gives a private in-memory database).
func Open(ctx context.Context, dsn string, logger *slog.Logger, opts ...Option) (*Store, error) {
	o := options{migrate: true, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db, fl, err := openDB(dsn)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, flavor: fl, logger: logger, now: o.now}
	if fl.name == flavorSQLite.name {
		s.wl = newWriteLock()
		s.jtiBatch = newBatcher(jtiBatchMax, batchTimeout, s.useJTIBatch)
		s.jtiBatch.linger, s.jtiBatch.lingerMin = jtiLinger, jtiLingerMin
		s.jtiStmt = &lazyStmt{db: db, query: fl.translate(useJTIQuery)}
		s.revokedStmt = &lazyStmt{db: db, query: fl.translate(isRevokedQuery)}
		s.stmts = newStmtCache(db, fl)
	} else {
		s.jtiBatch = newBatcher(jtiBatchMax, batchTimeout, s.useJTIMultiRow)
		s.jtiBatch.linger, s.jtiBatch.lingerMin = jtiLinger, jtiLingerMin
		s.revokedReads = &revokedReads{query: s.queryRevoked}
	}
	s.opaqueBatch = newBatcher(opaqueBatchMax, batchTimeout, s.createOpaqueBatch)
	s.opaqueBatch.linger, s.opaqueBatch.lingerMin = jtiLinger, jtiLingerMin
	s.rotateBatch = newBatcher(rotateBatchMax, batchTimeout, s.flushRotations)
	s.rotateBatch.linger, s.rotateBatch.lingerMin = jtiLinger, jtiLingerMin
	s.redeemBatch = newBatcher(redeemBatchMax, batchTimeout, s.flushRedemptions)
	s.redeemBatch.linger, s.redeemBatch.lingerMin = jtiLinger, jtiLingerMin
	s.statusBatch = newBatcher(statusTieBatchMax, batchTimeout, s.flushStatusTies)
	s.statusBatch.linger, s.statusBatch.lingerMin = jtiLinger, jtiLingerMin
	if err := pingWithRetry(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: connect to %s: %w", fl.name, err)
	}
	if o.migrate {
		if err := s.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return s, nil
}

// openDB picks the flavor from the DSN and configures the pool.
func openDB(dsn string) (*sql.DB, flavor, error) {
	if isPostgresDSN(dsn) {
		db, err := sql.Open(flavorPostgres.driver, dsn)
		if err != nil {
			return nil, flavor{}, fmt.Errorf("sqlstore: open postgres: %w", err)
		}
		// As many idle connections as open ones: under load a smaller idle
		// pool closes connections that the next burst must reopen, and a
		// PostgreSQL connection costs a backend process. Idle ones still
		// close after five minutes.
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
		db.SetConnMaxIdleTime(5 * time.Minute)
		return db, flavorPostgres, nil
	}
	path, memory, err := sqlitePath(dsn)
	if err != nil {
		return nil, flavor{}, err
	}
	db, err := sql.Open(flavorSQLite.driver, sqliteDSN(path, memory))
	if err != nil {
		return nil, flavor{}, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	if memory {
		// Every connection to ":memory:" is its own database: keep exactly
		// one, forever.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
	} else {
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	}
	return db, flavorSQLite, nil
}

func isPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// sqlitePath extracts the file path from "sqlite:PATH" or a plain path.
func sqlitePath(dsn string) (path string, memory bool, err error) {
	path = strings.TrimPrefix(dsn, "sqlite:")
	path = strings.TrimPrefix(path, "//")
	switch {
	case path == "":
		return "", false, errors.New("sqlstore: empty SQLite path")
	case strings.Contains(path, "?"):
		// The driver reads options after "?"; a path containing one
		// would silently open another file with other settings.
		return "", false, fmt.Errorf("sqlstore: SQLite path %q must not contain '?'", path)
	case strings.Contains(path, "://"):
		return "", false, fmt.Errorf("sqlstore: unsupported storage DSN scheme in %q", redactDSN(dsn))
	}
	return path, path == ":memory:", nil
}

// sqliteDSN adds the per-connection settings; modernc applies them to
// every new connection of the pool.
func sqliteDSN(path string, memory bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if !memory {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	q.Add("_pragma", "synchronous(FULL)")
	// IMMEDIATE: a transaction takes the write lock at BEGIN, so two
	// updaters serialize rather than deadlock on lock upgrade.
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode()
}

// redactDSN drops the password of a URL-shaped DSN for error messages.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}

// Flavor reports the dialect in use: "sqlite" or "postgres".
func (s *Store) Flavor() string { return s.flavor.name }

// DB exposes the pool, for operational checks and tests.
func (s *Store) DB() *sql.DB { return s.db }

// Ping checks that the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	return nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	if s.jtiStmt != nil {
		s.jtiStmt.close()
	}
	if s.revokedStmt != nil {
		s.revokedStmt.close()
	}
	s.revokedAmong.close()
	if s.stmts != nil {
		s.stmts.close()
	}
	return s.db.Close()
}

// pingWithRetry opens the first connection. Switching a new SQLite file to
// WAL needs a lock that SQLite's busy handler does not wait for, so
// processes starting at once (several `latchkey serve`, or `migrate`
// beside `serve`) can see SQLITE_BUSY here; they retry briefly instead of
// failing to start.
func pingWithRetry(ctx context.Context, db *sql.DB) error {
	var err error
	for attempt := range 20 {
		if err = db.PingContext(ctx); err == nil || !isRetryable(err) {
			return err
		}
		if serr := sleep(ctx, time.Duration(attempt+1)*25*time.Millisecond); serr != nil {
			return err
		}
	}
	return err
}
