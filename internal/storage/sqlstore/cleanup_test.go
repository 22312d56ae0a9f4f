package sqlstore

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// A clean-up of more expired rows than one batch deletes them all, batch
// after batch, and keeps every live row (SQLite batches; PostgreSQL runs
// one statement; both must answer the same).
func TestDeleteExpiredInBatches(t *testing.T) {
	defer func(n int) { cleanupBatch = n }(cleanupBatch)
	cleanupBatch = 7
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := t.Context()
			now := time.Now()
			for i := range 50 {
				j := jti(fmt.Sprint("old-", name, i))
				j.ExpiresAt = now.Add(-time.Minute)
				if err := s.UseJTI(ctx, j); err != nil {
					t.Fatal(err)
				}
				if err := s.RevokeToken(ctx, storage.RevokedToken{WorkspaceID: "ws", JTI: fmt.Sprint("old-", name, i),
					ExpiresAt: now.Add(-time.Minute), RevokedAt: now.Add(-time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 3 {
				if err := s.UseJTI(ctx, jti(fmt.Sprint("live-", name, i))); err != nil {
					t.Fatal(err)
				}
			}
			n, err := s.DeleteExpired(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			if n < 100 {
				t.Fatalf("DeleteExpired removed %d rows, want at least the 100 expired ones", n)
			}
			var left int
			if err := s.reader().queryRow(ctx, `SELECT COUNT(*) FROM jti_replay WHERE workspace_id = ?`, "ws").Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left != 3 {
				t.Fatalf("%d jti rows left, want the 3 live ones", left)
			}
			if n, err := s.DeleteExpired(ctx, now); err != nil || n != 0 {
				t.Fatalf("second clean-up removed %d rows (%v), want 0", n, err)
			}
		})
	}
}

// Every table the clean-up deletes from is named in cleanupTables with
// exactly its primary key, in key order: a batch selects its rows by that
// key (a WITHOUT ROWID table has no rowid), so a wrong list would delete
// the wrong rows or fail.
func TestCleanupKeysArePrimaryKeys(t *testing.T) {
	s := openSQLiteStore(t)
	for table, ct := range cleanupTables {
		want := ct.key
		rows, err := s.reader().query(t.Context(), `SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`, table)
		if err != nil {
			t.Fatal(err)
		}
		var cols []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			cols = append(cols, c)
		}
		rows.Close()
		if got := strings.Join(cols, ", "); got != want {
			t.Errorf("table %s: primary key (%s), cleanupTables says (%s)", table, got, want)
		}
	}
}

// Every clean-up runs to its end on both backends with batches smaller
// than its backlog, so each table it names has a key in cleanupTables and
// its batched statement is valid SQL; what it deleted is then gone.
func TestEveryCleanupBatches(t *testing.T) {
	defer func(n int) { cleanupBatch = n }(cleanupBatch)
	cleanupBatch = 2
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := t.Context()
			now := time.Now()
			for i := range 5 {
				if err := s.RevokeToken(ctx, storage.RevokedToken{WorkspaceID: "ws", JTI: fmt.Sprint("gone-", i),
					ExpiresAt: now.Add(-time.Minute), RevokedAt: now.Add(-time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.DeleteExpired(ctx, now); err != nil {
				t.Fatalf("DeleteExpired: %v", err)
			}
			if _, err := s.DeleteExpiredAuthFlow(ctx, now); err != nil {
				t.Fatalf("DeleteExpiredAuthFlow: %v", err)
			}
			if _, err := s.DeleteExpiredConsoleData(ctx, now, now, now); err != nil {
				t.Fatalf("DeleteExpiredConsoleData: %v", err)
			}
			var left int
			if err := s.reader().queryRow(ctx, `SELECT COUNT(*) FROM revoked_tokens`).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left != 0 {
				t.Fatalf("%d expired revocation marks left, want 0", left)
			}
		})
	}
}

// A clean-up batch commits with synchronous=NORMAL on its connection
// (deleteBatch); every connection of the pool is back to FULL afterwards,
// so no request's commit is acknowledged before it is on disk
// (the package doc: synchronous=FULL, reliability invariant 2).
func TestCleanupLeavesEveryConnectionFullySynced(t *testing.T) {
	defer func(n int) { cleanupBatch = n }(cleanupBatch)
	cleanupBatch = 3
	s := openSQLiteStore(t)
	ctx := t.Context()
	now := time.Now()
	for i := range 20 {
		j := jti(fmt.Sprint("old-", i))
		j.ExpiresAt = now.Add(-time.Minute)
		if err := s.UseJTI(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteExpired(ctx, now); err != nil || n != 20 {
		t.Fatalf("DeleteExpired = %d, %v; want 20", n, err)
	}
	// Holding every connection the pool can open visits each of them.
	var held []*sql.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range 8 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		var mode int
		if err := c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != 2 {
			t.Errorf("connection %d: synchronous = %d after a clean-up, want 2 (FULL)", len(held), mode)
		}
	}
}

// TestCleanupScansUnindexedTablesInPages: a table whose condition no index
// serves (deleteExpiredByScan) is read in key-ordered pages outside the
// write lock and its expired rows deleted by key, page after page, until
// the last: every expired row goes, every live one stays, with pages and
// batches smaller than the rows (login counters, keyed by workspace and
// counter key).
func TestCleanupScansUnindexedTablesInPages(t *testing.T) {
	defer func(n, p int) { cleanupBatch, cleanupScanPage = n, p }(cleanupBatch, cleanupScanPage)
	cleanupBatch, cleanupScanPage = 2, 3
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := t.Context()
			now := time.Now()
			if err := s.CreateWorkspace(ctx, storage.Workspace{ID: "scan", Name: "scan", Enabled: true, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			live := map[string]bool{}
			for i := range 17 {
				expires := now.Add(-time.Minute)
				if i%3 == 0 {
					expires = now.Add(time.Hour)
					live[fmt.Sprintf("k%02d", i)] = true
				}
				if _, err := s.reader().exec(ctx, `INSERT INTO login_counters (workspace_id, counter_key, attempts, window_start, last_at, next_allowed, expires_at)
VALUES (?, ?, 1, 0, 0, 0, ?)`, "scan", fmt.Sprintf("k%02d", i), toMillis(expires)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.DeleteExpiredAuthFlow(ctx, now); err != nil {
				t.Fatalf("DeleteExpiredAuthFlow: %v", err)
			}
			rows, err := s.reader().query(ctx, `SELECT counter_key FROM login_counters WHERE workspace_id = ?`, "scan")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			left := map[string]bool{}
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					t.Fatal(err)
				}
				left[k] = true
			}
			if len(left) != len(live) {
				t.Fatalf("left %v, want exactly the live counters %v", left, live)
			}
			for k := range live {
				if !left[k] {
					t.Fatalf("live counter %s deleted", k)
				}
			}
		})
	}
}
