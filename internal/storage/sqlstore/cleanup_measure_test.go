package sqlstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// TestCleanupUnderLoad measures what a clean-up of many expired rows does
// to the writes of requests on SQLite (docs/benchmarks.md, "Clean-up under
// load" and "round two"): 16 goroutines spend fresh jtis (the write of
// every JWT bearer token, group-committed) and the p99 of a spend is taken
// without a clean-up and then during a batched clean-up of
// LATCHKEY_CLEANUP_ROWS expired jtis with random values (as real jtis are,
// so each batch touches as many pages of the primary key as it deletes
// rows). Each pace of LATCHKEY_CLEANUP_PACES (default: round one's, then
// the current one) is measured on a fresh database; a pace is
// "batch:rest-busy:rest-idle", e.g. "250:1:1".
// Skipped unless LATCHKEY_CLEANUP_ROWS is set.
func TestCleanupUnderLoad(t *testing.T) {
	rows, _ := strconv.Atoi(os.Getenv("LATCHKEY_CLEANUP_ROWS"))
	if rows <= 0 {
		t.Skip("set LATCHKEY_CLEANUP_ROWS (e.g. 300000) to measure")
	}
	paces := os.Getenv("LATCHKEY_CLEANUP_PACES")
	if paces == "" {
		paces = "250:1:1," + currentPace().String()
	}
	defer setPace(currentPace())
	for _, spec := range strings.Split(paces, ",") {
		p, err := parsePace(spec)
		if err != nil {
			t.Fatal(err)
		}
		s := openStoreWithWorkspace(t, "sqlite:"+filepath.Join(t.TempDir(), "latchkey.db"))
		ctx := t.Context()
		fillExpiredJTIs(t, s, rows)
		setPace(p)
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
			p, rows, took.Round(time.Millisecond), ms(base.p50), ms(base.p99), base.n,
			ms(during.p50), ms(during.p99), during.n, float64(during.p99)/float64(base.p99))
	}
}

// pace is one setting of the clean-up's batch size and rests.
type pace struct {
	batch            int
	restBusy, restIn float64
}

func currentPace() pace { return pace{cleanupBatch, cleanupRestBusy, cleanupRestIdle} }

func setPace(p pace) { cleanupBatch, cleanupRestBusy, cleanupRestIdle = p.batch, p.restBusy, p.restIn }

func (p pace) String() string { return fmt.Sprintf("%d:%g:%g", p.batch, p.restBusy, p.restIn) }

func parsePace(spec string) (pace, error) {
	var p pace
	if _, err := fmt.Sscanf(spec, "%d:%g:%g", &p.batch, &p.restBusy, &p.restIn); err != nil {
		return p, fmt.Errorf("pace %q: want batch:rest-busy:rest-idle: %w", spec, err)
	}
	return p, nil
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

// fillExpiredJTIs inserts rows expired jtis with random values, in
// transactions of 10,000.
func fillExpiredJTIs(t *testing.T, s *Store, rows int) {
	ctx := t.Context()
	past := toMillis(time.Now().Add(-time.Hour))
	for from := 0; from < rows; from += 10_000 {
		err := s.inTx(ctx, "fill", func(tx conn) error {
			for range min(10_000, rows-from) {
				if _, err := tx.exec(ctx, `INSERT INTO jti_replay (workspace_id, namespace, issuer, jti, expires_at) VALUES (?, ?, ?, ?, ?)`,
					"ws", "old", "i", rand.Text(), past); err != nil {
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
