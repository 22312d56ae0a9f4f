package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchkey/latchkey/internal/storage"
)

// maxAttempts bounds the retries of a transaction that failed on a
// serialization conflict, deadlock or busy database.
const maxAttempts = 5

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// conn binds a querier to the store's flavor so that every query is
// translated in one place.
type conn struct {
	q  querier
	fl flavor
	// wl, set on the pool conn of a SQLite store, is taken around each
	// exec: outside a transaction every exec is a write that commits on
	// its own. Transactions take it in tryTx instead.
	wl writeLock
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := c.wl.lock(ctx); err != nil {
		return nil, err
	}
	defer c.wl.unlock()
	return c.q.ExecContext(ctx, c.fl.translate(query), args...)
}

// prepare compiles a statement that a transaction runs many times (a
// group commit), so the SQL is parsed once rather than per row. Only for
// transaction conns: the pool conn's exec is what takes the write lock.
func (c conn) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	return c.q.PrepareContext(ctx, c.fl.translate(query))
}

// stmt returns the transaction-specific form of a statement prepared on
// the pool; on the pool conn it returns stmt itself.
func (c conn) stmt(ctx context.Context, stmt *sql.Stmt) *sql.Stmt {
	if tx, ok := c.q.(*sql.Tx); ok {
		return tx.StmtContext(ctx, stmt)
	}
	return stmt
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.q.QueryContext(ctx, c.fl.translate(query), args...)
}

func (c conn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return c.q.QueryRowContext(ctx, c.fl.translate(query), args...)
}

// writeRow runs a single-statement write that returns a row (UPDATE or
// DELETE ... RETURNING) and scans it. On the pool conn of a SQLite store
// it holds the write lock until scan returns: the statement runs, and
// commits, when its row is read.
func (c conn) writeRow(ctx context.Context, scan func(*sql.Row) error, query string, args ...any) error {
	if err := c.wl.lock(ctx); err != nil {
		return err
	}
	defer c.wl.unlock()
	return scan(c.q.QueryRowContext(ctx, c.fl.translate(query), args...))
}

// reader runs outside any transaction. Despite its name, its exec is also
// the path of single-statement writes; it takes the SQLite write lock.
func (s *Store) reader() conn { return conn{q: s.db, fl: s.flavor, wl: s.wl} }

// abort carries an updater's error out of a transaction so it is returned
// unchanged (storage contract) and never retried.
type abort struct{ err error }

func (a abort) Error() string { return a.err.Error() }

// inTx runs fn in a transaction and commits it, retrying the whole
// transaction on serialization failures, deadlocks and SQLITE_BUSY. fn may
// therefore run more than once and must not have side effects outside tx.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx conn) error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = s.tryTx(ctx, fn)
		if err == nil {
			return nil
		}
		if a, ok := errors.AsType[abort](err); ok {
			return a.err
		}
		if !isRetryable(err) || attempt == maxAttempts {
			break
		}
		s.logger.DebugContext(ctx, "sqlstore: retrying transaction", "op", op, "attempt", attempt, "err", err)
		if werr := sleep(ctx, time.Duration(attempt*attempt)*5*time.Millisecond); werr != nil {
			return mapError(op, werr)
		}
	}
	return mapError(op, err)
}

// commitTimeout bounds a COMMIT once it has been sent, when the caller's
// deadline no longer applies (see tryTx).
const commitTimeout = 10 * time.Second

// errCommitTimeout reports a COMMIT cut off by commitTimeout.
var errCommitTimeout = fmt.Errorf("COMMIT did not finish within %v: %w", commitTimeout, context.DeadlineExceeded)

// tryTx runs one attempt under the write lock (SQLite), so that the
// lock is not held while inTx sleeps before a retry.
//
// The caller's ctx (bound to the request's deadline) governs everything
// before COMMIT: the wait for this process's write lock, BEGIN (on SQLite
// the driver ends its busy wait for another process's lock with ctx) and
// fn's statements. ctx is checked once more just before COMMIT: when it
// has ended, the transaction is rolled back and the caller gets its
// error, so a client told "failed" never finds the write done
// (docs/security.md R6). A COMMIT already sent is not cut off by ctx:
// cancelling it midway leaves its outcome unknown (a PostgreSQL COMMIT can
// land after the client saw the error), so it runs to its end, bounded by
// commitTimeout, and the caller learns what really happened.
func (s *Store) tryTx(ctx context.Context, fn func(tx conn) error) error {
	if err := s.wl.lock(ctx); err != nil {
		return err
	}
	defer s.wl.unlock()
	// txCtx follows ctx until stopFollowing, then only commitTimeout.
	txCtx, cancelTx := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelTx(nil)
	stopFollowing := context.AfterFunc(ctx, func() { cancelTx(context.Cause(ctx)) })
	defer stopFollowing()
	tx, err := s.db.BeginTx(txCtx, nil)
	if err != nil {
		return callerError(ctx, err)
	}
	if err := fn(conn{q: tx, fl: s.flavor}); err != nil {
		_ = tx.Rollback()
		return callerError(ctx, err)
	}
	if !stopFollowing() {
		_ = tx.Rollback()
		return ctx.Err()
	}
	timer := time.AfterFunc(commitTimeout, func() { cancelTx(errCommitTimeout) })
	defer timer.Stop()
	if err := tx.Commit(); err != nil {
		if errors.Is(context.Cause(txCtx), errCommitTimeout) {
			return errCommitTimeout
		}
		return callerError(ctx, err)
	}
	return nil
}

// callerError reports the caller's own context error (a deadline rather
// than the Canceled of the transaction context that followed it) when
// ctx ending is what stopped the transaction.
func callerError(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && errors.Is(err, context.Canceled) {
		return cerr
	}
	return err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// PostgreSQL SQLSTATE codes (Appendix A of the PostgreSQL manual).
const (
	pgUniqueViolation      = "23505"
	pgForeignKeyViolation  = "23503"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

func isRetryable(err error) bool {
	if pg, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pg.Code == pgSerializationFailure || pg.Code == pgDeadlockDetected
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		primary := se.Code() & 0xff
		return primary == sqlite3.SQLITE_BUSY || primary == sqlite3.SQLITE_LOCKED
	}
	return false
}

func isUniqueViolation(err error) bool {
	if pg, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pg.Code == pgUniqueViolation
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func isForeignKeyViolation(err error) bool {
	if pg, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pg.Code == pgForeignKeyViolation
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// mapError turns driver errors into the storage sentinels: unique
// violations are ErrAlreadyExists, a missing parent row (foreign key) is
// ErrNotFound, no row is ErrNotFound, an ended context, a lock held past
// it or a lost connection is ErrUnavailable (isUnavailable). Sentinels
// already in err pass through.
func mapError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrAlreadyExists):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return storage.ErrNotFound
	case isUniqueViolation(err):
		return fmt.Errorf("sqlstore: %s: %w", op, storage.ErrAlreadyExists)
	case isForeignKeyViolation(err):
		return fmt.Errorf("sqlstore: %s: %w", op, storage.ErrNotFound)
	case errors.Is(err, storage.ErrUnavailable):
		return err
	case isUnavailable(err):
		return unavailable(op, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// expectOne reports ErrNotFound when a write by key touched no row.
func expectOne(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}
