package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchkey/latchkey/internal/storage"
)

// isUnavailable reports whether err means that the database could not serve
// the call now but may on a retry (storage.ErrUnavailable): the caller's
// deadline passed or it gave up, another writer held the lock past that
// deadline, the database is out of resources, read-only or unreachable.
// Anything else that is not a storage sentinel is a bug or corrupt data,
// and stays an internal error.
func isUnavailable(err error) bool {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case isPostgresUnavailable(err), isSQLiteUnavailable(err):
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	// database/sql does not export the error of a closed pool.
	return strings.Contains(err.Error(), "sql: database is closed")
}

// isPostgresUnavailable: SQLSTATE classes 08 (connection exception), 53
// (insufficient resources), 57 (operator intervention: cancelled
// statement, shutdown), 58 (system error); lock_not_available, a
// read-only transaction (a standby), and the conflicts inTx retries once
// its attempts are spent (PostgreSQL manual, Appendix A).
func isPostgresUnavailable(err error) bool {
	pg, ok := errors.AsType[*pgconn.PgError](err)
	if !ok {
		return false
	}
	switch pg.Code {
	case pgSerializationFailure, pgDeadlockDetected, "55P03", "25006":
		return true
	}
	switch pg.Code[:min(2, len(pg.Code))] {
	case "08", "53", "57", "58":
		return true
	}
	return false
}

// isSQLiteUnavailable: the database file is locked past the wait, cannot
// be read, written or opened, is full, read-only, or the call was
// interrupted (https://sqlite.org/rescode.html).
func isSQLiteUnavailable(err error) bool {
	se, ok := errors.AsType[*sqlite.Error](err)
	if !ok {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
		sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PROTOCOL,
		sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_INTERRUPT:
		return true
	}
	return false
}

// unavailable wraps err, already known to be an unavailability, so that
// errors.Is finds both storage.ErrUnavailable and the original cause (the
// metrics leave context.Canceled uncounted).
func unavailable(op string, err error) error {
	return fmt.Errorf("sqlstore: %s: %w: %w", op, storage.ErrUnavailable, err)
}

// probeWriteQuery updates the newest schema_migrations row to itself: a
// real write on both backends (PostgreSQL locks the row and writes a new
// version of it) that CheckWritable always rolls back.
const probeWriteQuery = `UPDATE schema_migrations SET applied_at = applied_at
WHERE version = (SELECT MAX(version) FROM schema_migrations)`

// CheckWritable starts a write transaction (on SQLite BEGIN IMMEDIATE
// takes the database's write lock, after this process's own queue), runs
// probeWriteQuery and rolls back, so nothing changes. A database another
// process keeps locked, a read-only or unreachable one fails it with
// storage.ErrUnavailable once ctx ends (docs/security.md R7).
func (s *Store) CheckWritable(ctx context.Context) error {
	err := s.probeWrite(ctx)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil || isUnavailable(err) {
		return unavailable("check writable", err)
	}
	return fmt.Errorf("sqlstore: check writable: %w", err)
}

func (s *Store) probeWrite(ctx context.Context) error {
	if err := s.wl.lock(ctx); err != nil {
		return err
	}
	defer s.wl.unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	_, err = conn{q: tx, fl: s.flavor}.exec(ctx, probeWriteQuery)
	return err
}
