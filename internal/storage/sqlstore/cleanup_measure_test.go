package sqlstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// TestCleanupUnderLoad measures what a clean-up of many expired rows does
// to the writes of requests on SQLite (docs/benchmarks.md, "Clean-up under
// load"): 16 goroutines spend fresh jtis (the write of every JWT bearer
// token, group-committed) and the p99 of a spend is taken without a
// clean-up, during a batched clean-up of LATCHKEY_CLEANUP_ROWS expired
// rows, and during the same clean-up as one statement (the former code).
// Skipped unless LATCHKEY_CLEANUP_ROWS is set.
func TestCleanupUnderLoad(t *testing.T) {
	rows, _ := strconv.Atoi(os.Getenv("LATCHKEY_CLEANUP_ROWS"))
	if rows <= 0 {
		t.Skip("set LATCHKEY_CLEANUP_ROWS (e.g. 300000) to measure")
	}
	defer func(n int) { cleanupBatch = n }(cleanupBatch)
	for _, mode := range []struct {
		name  string
		batch int
	}{{"batched", cleanupBatch}, {"one statement", rows + 1}} {
		s := openStoreWithWorkspace(t, "sqlite:"+filepath.Join(t.TempDir(), "latchkey.db"))
		ctx := t.Context()
		fillExpiredJTIs(t, s, rows)
		cleanupBatch = mode.batch
		base := spendLoad(ctx, t, s, "base", func() { time.Sleep(3 * time.Second) })
		var took time.Duration
		during := spendLoad(ctx, t, s, "during", func() {
			start := time.Now()
			n, err := s.DeleteExpired(ctx, time.Now())
			took = time.Since(start)
			if err != nil || n < int64(rows) {
				t.Errorf("DeleteExpired = %d, %v", n, err)
			}
		})
		t.Logf("| %s | %d rows in %s | p50 %.2f / p99 %.2f ms (%d spends) | p50 %.2f / p99 %.2f ms (%d spends) | %.2f |",
			mode.name, rows, took.Round(time.Millisecond), ms(base.p50), ms(base.p99), base.n,
			ms(during.p50), ms(during.p99), during.n, float64(during.p99)/float64(base.p99))
	}
}

type spendStats struct {
	p50, p99 time.Duration
	n        int
}

// spendLoad spends jtis from 16 goroutines while while runs, and returns
// the latency percentiles of the spends.
func spendLoad(ctx context.Context, t *testing.T, s *Store, tag string, while func()) spendStats {
	var stop atomic.Bool
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	var seq atomic.Int64
	for range 16 {
		wg.Go(func() {
			var mine []time.Duration
			for !stop.Load() {
				j := storage.JTI{WorkspaceID: "ws", Namespace: "load", Issuer: "i",
					JTI: fmt.Sprint(tag, seq.Add(1)), ExpiresAt: time.Now().Add(time.Hour)}
				start := time.Now()
				if err := s.UseJTI(ctx, j); err != nil {
					t.Error(err)
					return
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	while()
	stop.Store(true)
	wg.Wait()
	slices.Sort(lat)
	if len(lat) == 0 {
		return spendStats{}
	}
	return spendStats{p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], n: len(lat)}
}

// fillExpiredJTIs inserts rows expired jtis in transactions of 10,000.
func fillExpiredJTIs(t *testing.T, s *Store, rows int) {
	ctx := t.Context()
	past := toMillis(time.Now().Add(-time.Hour))
	for from := 0; from < rows; from += 10_000 {
		err := s.inTx(ctx, "fill", func(tx conn) error {
			for i := from; i < min(from+10_000, rows); i++ {
				if _, err := tx.exec(ctx, `INSERT INTO jti_replay (workspace_id, namespace, issuer, jti, expires_at) VALUES (?, ?, ?, ?, ?)`,
					"ws", "old", "i", strconv.Itoa(i), past); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
