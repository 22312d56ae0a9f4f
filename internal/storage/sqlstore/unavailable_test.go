package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchkey/latchkey/internal/storage"
)

// A transaction whose caller's context ends before COMMIT is rolled back
// and reported as ErrUnavailable: a caller told "failed" never finds the
// write done (docs/security.md R6).
func TestTxRolledBackWhenCallerContextEndsBeforeCommit(t *testing.T) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			err := s.inTx(ctx, "test write", func(tx conn) error {
				if _, err := tx.exec(ctx, `INSERT INTO workspaces (`+workspaceColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
					"late", "late", true, "{}", 0, 0); err != nil {
					return err
				}
				cancel() // the request gives up after its last statement
				return nil
			})
			if !errors.Is(err, storage.ErrUnavailable) || !errors.Is(err, context.Canceled) {
				t.Fatalf("inTx after the caller gave up: %v, want ErrUnavailable wrapping context.Canceled", err)
			}
			if _, err := s.GetWorkspace(t.Context(), "late"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("the write of a caller that gave up was committed: %v", err)
			}
		})
	}
}

// CheckWritable succeeds on a working database without changing it, and
// fails with ErrUnavailable on a closed one (docs/security.md R7).
func TestCheckWritable(t *testing.T) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			before, err := s.SchemaVersion(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if err := s.CheckWritable(t.Context()); err != nil {
				t.Fatalf("CheckWritable on a working store: %v", err)
			}
			if after, err := s.SchemaVersion(t.Context()); err != nil || after != before {
				t.Fatalf("schema version %d after the probe, was %d (%v)", after, before, err)
			}
			s.Close()
			if err := s.CheckWritable(t.Context()); !errors.Is(err, storage.ErrUnavailable) {
				t.Fatalf("CheckWritable on a closed store: %v, want ErrUnavailable", err)
			}
		})
	}
}

// mapError: conditions a retry may fix are ErrUnavailable (answered 503),
// everything else keeps its own meaning.
func TestMapErrorUnavailable(t *testing.T) {
	tests := []struct {
		name            string
		err             error
		unavailable     bool
		notFound, exist bool
	}{
		{"deadline", fmt.Errorf("exec: %w", context.DeadlineExceeded), true, false, false},
		{"caller gone", context.Canceled, true, false, false},
		{"bad connection", fmt.Errorf("x: %w", sql.ErrConnDone), true, false, false},
		{"postgres statement cancelled", &pgconn.PgError{Code: "57014"}, true, false, false},
		{"postgres connection failure", &pgconn.PgError{Code: "08006"}, true, false, false},
		{"postgres lock not available", &pgconn.PgError{Code: "55P03"}, true, false, false},
		{"postgres read-only standby", &pgconn.PgError{Code: "25006"}, true, false, false},
		{"postgres too many connections", &pgconn.PgError{Code: "53300"}, true, false, false},
		{"postgres check violation is a bug, not an outage", &pgconn.PgError{Code: "23514"}, false, false, false},
		{"postgres unique violation", &pgconn.PgError{Code: pgUniqueViolation}, false, false, true},
		{"no rows", sql.ErrNoRows, false, true, false},
		{"corrupt data", errors.New("decode client: unexpected end of JSON input"), false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mapError("op", tt.err)
			if errors.Is(got, storage.ErrUnavailable) != tt.unavailable ||
				errors.Is(got, storage.ErrNotFound) != tt.notFound || errors.Is(got, storage.ErrAlreadyExists) != tt.exist {
				t.Fatalf("mapError(%v) = %v", tt.err, got)
			}
		})
	}
}
