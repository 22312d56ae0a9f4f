package sqlstore

import (
	"fmt"
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
