package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// gate makes a flush function block on its first call until released, so
// that a test can queue callers behind it and get one deterministic batch.
type gate struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}), release: make(chan struct{})}
}

func (g *gate) wait() {
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.entered)
		<-g.release
	}
}

// queued waits until n calls wait in b's queue.
func queued[T any](t *testing.T, b *batcher[T], n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		got := len(b.queue)
		b.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue has %d calls, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func openSQLiteStore(t *testing.T) *Store {
	t.Helper()
	return openStoreWithWorkspace(t, "sqlite:"+filepath.Join(t.TempDir(), "latchkey.db"))
}

// The in-memory store has a single connection: a batch must not need a
// second one (for instance to prepare a statement) while it holds it.
func openSQLiteMemoryStore(t *testing.T) *Store {
	t.Helper()
	return openStoreWithWorkspace(t, "sqlite::memory:")
}

func openStoreWithWorkspace(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.CreateWorkspace(t.Context(), storage.Workspace{ID: "ws", Name: "ws", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	return s
}

var backends = map[string]func(*testing.T) *Store{
	"sqlite":        openSQLiteStore,
	"sqlite-memory": openSQLiteMemoryStore,
	"postgres":      openPostgresStore,
}

func jti(id string) storage.JTI {
	return storage.JTI{WorkspaceID: "ws", Namespace: "client_assertion", Issuer: "app", JTI: id, ExpiresAt: time.Now().Add(time.Hour)}
}

// SECURITY.md B7 within one group commit: a key repeated in a batch is won
// by its first occurrence only, as if the calls had run one by one.
func TestUseJTIBatchDuplicatesInOrder(t *testing.T) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := t.Context()
			if err := s.UseJTI(ctx, jti("seen")); err != nil {
				t.Fatal(err)
			}
			expired := jti("expired")
			expired.ExpiresAt = time.Now().Add(-time.Minute)
			if err := s.UseJTI(ctx, expired); err != nil {
				t.Fatal(err)
			}
			batch := []storage.JTI{jti("a"), jti("a"), jti("b"), jti("seen"), jti("a"), jti("expired"), jti("expired")}
			want := []error{nil, storage.ErrAlreadyExists, nil, storage.ErrAlreadyExists, storage.ErrAlreadyExists, nil, storage.ErrAlreadyExists}
			got, err := s.jtiBatch.flush(ctx, batch) // the backend's own flush
			if err != nil {
				t.Fatalf("flush: %v", err)
			}
			for i := range want {
				if !errors.Is(got[i], want[i]) || (want[i] == nil) != (got[i] == nil) {
					t.Errorf("item %d (%s): got %v, want %v", i, batch[i].JTI, got[i], want[i])
				}
			}
			// The winners are durable and live.
			for _, id := range []string{"a", "b", "expired"} {
				if err := s.UseJTI(ctx, jti(id)); !errors.Is(err, storage.ErrAlreadyExists) {
					t.Errorf("B7: reusing %q after the batch: %v, want ErrAlreadyExists", id, err)
				}
			}
		})
	}
}

// One failing item (a missing workspace: foreign key) fails alone; the
// rest of its batch is still written.
func TestUseJTIBatchItemFailureStaysWithItem(t *testing.T) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			missing := jti("m")
			missing.WorkspaceID = "nope"
			got, err := s.jtiBatch.flush(t.Context(), []storage.JTI{jti("x"), missing, jti("y"), jti("x")})
			if err != nil {
				t.Fatalf("flush: %v", err)
			}
			if got[0] != nil || got[2] != nil {
				t.Errorf("valid items failed: %v, %v", got[0], got[2])
			}
			if got[1] == nil || errors.Is(got[1], storage.ErrAlreadyExists) {
				t.Errorf("item in a missing workspace: %v, want a not-found error", got[1])
			}
			if !errors.Is(got[3], storage.ErrAlreadyExists) {
				t.Errorf("B7: duplicate after the failing item: %v, want ErrAlreadyExists", got[3])
			}
		})
	}
}

// SECURITY.md B7: many concurrent callers in one real batch, several per
// key: exactly one success per key, the others ErrAlreadyExists.
func TestUseJTIGroupCommitOneWinnerPerKey(t *testing.T) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) { testOneWinnerPerKey(t, open(t)) })
	}
}

func testOneWinnerPerKey(t *testing.T, s *Store) {
	g := newGate()
	flush := s.jtiBatch.flush // the backend's own
	s.jtiBatch = newBatcher(jtiBatchMax, batchTimeout, func(ctx context.Context, js []storage.JTI) ([]error, error) {
		g.wait()
		return flush(ctx, js)
	})
	first := make(chan error, 1)
	go func() { first <- s.UseJTI(t.Context(), jti("first")) }()
	<-g.entered

	const keys, per = 10, 6
	var wins [keys]atomic.Int32
	var dups atomic.Int32
	errs := make(chan error, keys*per)
	var wg sync.WaitGroup
	for i := range keys * per {
		wg.Go(func() {
			switch err := s.UseJTI(t.Context(), jti(fmt.Sprint("k", i%keys))); {
			case err == nil:
				wins[i%keys].Add(1)
			case errors.Is(err, storage.ErrAlreadyExists):
				dups.Add(1)
			default:
				errs <- err
			}
		})
	}
	queued(t, s.jtiBatch, keys*per) // all in the next batch
	close(g.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected error: %v", err)
	}
	if err := <-first; err != nil {
		t.Fatalf("first call: %v", err)
	}
	for k := range keys {
		if n := wins[k].Load(); n != 1 {
			t.Errorf("B7: key k%d won %d times, want 1", k, n)
		}
	}
	if n := dups.Load(); n != keys*(per-1) {
		t.Errorf("B7: %d ErrAlreadyExists, want %d", n, keys*(per-1))
	}
}

// A batch whose commit fails fails every caller in it, even those whose
// statement had succeeded: no success is reported that is not durable.
func TestBatcherCommitFailureFailsEveryCaller(t *testing.T) {
	errCommit := errors.New("commit failed: disk I/O error")
	g := newGate()
	var flushes atomic.Int32
	b := newBatcher(jtiBatchMax, time.Second, func(_ context.Context, items []int) ([]error, error) {
		g.wait()
		flushes.Add(1)
		return make([]error, len(items)), errCommit // every statement "succeeded"
	})
	const n = 20
	results := make(chan error, n+1)
	go func() { results <- b.do(t.Context(), -1) }()
	<-g.entered
	for i := range n {
		go func() { results <- b.do(t.Context(), i) }()
	}
	queued(t, b, n)
	close(g.release)
	for range n + 1 {
		if err := <-results; !errors.Is(err, errCommit) {
			t.Fatalf("caller got %v, want the commit error", err)
		}
	}
	if got := flushes.Load(); got != 2 {
		t.Errorf("%d flushes, want 2 (one blocked, then one batch of %d)", got, n)
	}
}

// Batches never exceed max, and every item is flushed exactly once.
func TestBatcherBoundsBatchSize(t *testing.T) {
	const max, n = 8, 50
	g := newGate()
	var mu sync.Mutex
	seen := map[int]int{}
	var sizes []int
	b := newBatcher(max, time.Second, func(_ context.Context, items []int) ([]error, error) {
		g.wait()
		mu.Lock()
		defer mu.Unlock()
		sizes = append(sizes, len(items))
		for _, it := range items {
			seen[it]++
		}
		return make([]error, len(items)), nil
	})
	var wg sync.WaitGroup
	wg.Go(func() { _ = b.do(t.Context(), -1) })
	<-g.entered
	for i := range n {
		wg.Go(func() {
			if err := b.do(t.Context(), i); err != nil {
				t.Errorf("do(%d): %v", i, err)
			}
		})
	}
	queued(t, b, n)
	close(g.release)
	wg.Wait()
	for _, sz := range sizes {
		if sz > max {
			t.Errorf("batch of %d items, max %d", sz, max)
		}
	}
	for i := -1; i < n; i++ {
		if seen[i] != 1 {
			t.Errorf("item %d flushed %d times", i, seen[i])
		}
	}
}

// A caller whose context ends while queued returns at once and is never
// written; one whose context ends during its flush returns at once too,
// and does not fail the others of its batch.
func TestBatcherContextCancellation(t *testing.T) {
	g := newGate()
	var mu sync.Mutex
	var flushed []int
	inSecond := make(chan struct{})
	releaseSecond := make(chan struct{})
	b := newBatcher(jtiBatchMax, time.Second, func(ctx context.Context, items []int) ([]error, error) {
		g.wait()
		mu.Lock()
		flushed = append(flushed, items...)
		mu.Unlock()
		if items[0] == 1 {
			close(inSecond)
			<-releaseSecond
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("flush context ended: %w", err)
		}
		return make([]error, len(items)), nil
	})
	firstDone := make(chan error, 1)
	go func() { firstDone <- b.do(t.Context(), 0) }()
	<-g.entered

	// Queued behind the blocked flush, then cancelled: withdrawn.
	ctx, cancel := context.WithCancel(t.Context())
	queuedDone := make(chan error, 1)
	go func() { queuedDone <- b.do(ctx, 99) }()
	queued(t, b, 1)
	cancel()
	select {
	case err := <-queuedDone:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled queued caller got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled queued caller did not return")
	}
	queued(t, b, 0)

	// Already-cancelled context: refused before queuing.
	if err := b.do(ctx, 98); !errors.Is(err, context.Canceled) {
		t.Fatalf("do with a cancelled context: %v", err)
	}

	// Cancelled while its batch flushes: the flush (which does not use its
	// cancellation) still succeeds for both items, and the cancelled
	// caller waits for it and is told the truth: its item was written.
	ctx2, cancel2 := context.WithCancel(t.Context())
	defer cancel2()
	inFlush := make(chan error, 1)
	other := make(chan error, 1)
	go func() { inFlush <- b.do(ctx2, 1) }()
	queued(t, b, 1)
	go func() { other <- b.do(t.Context(), 2) }()
	queued(t, b, 2)
	close(g.release)
	if err := <-firstDone; err != nil {
		t.Fatalf("first caller: %v", err)
	}
	<-inSecond
	cancel2()
	close(releaseSecond)
	if err := <-inFlush; err != nil {
		t.Fatalf("caller cancelled during the flush that wrote its item got %v, want its success", err)
	}
	if err := <-other; err != nil {
		t.Fatalf("the other caller of the batch: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, it := range flushed {
		if it == 99 || it == 98 {
			t.Errorf("item %d of a cancelled caller was flushed", it)
		}
	}
}

// A flush ends at the latest deadline of its callers (after it nobody
// waits in time and the write must not commit), at most timeout from now;
// a caller without a deadline leaves it at timeout.
func TestBatcherFlushDeadlineFollowsCallers(t *testing.T) {
	const timeout = 3 * time.Hour
	early, late := time.Now().Add(time.Hour), time.Now().Add(2*time.Hour)
	beyond := time.Now().Add(5 * time.Hour)
	b := newBatcher(jtiBatchMax, timeout, func(context.Context, []int) ([]error, error) { return nil, nil })
	call := func(d time.Time) *batchCall[int] {
		if d.IsZero() {
			return &batchCall[int]{ctx: t.Context()}
		}
		ctx, cancel := context.WithDeadline(t.Context(), d)
		t.Cleanup(cancel)
		return &batchCall[int]{ctx: ctx}
	}
	tests := []struct {
		name      string
		deadlines []time.Time
		want      time.Time // zero: about now + timeout
	}{
		{"latest of the callers", []time.Time{late, early}, late},
		{"one caller", []time.Time{early}, early},
		{"capped at timeout", []time.Time{early, beyond}, time.Time{}},
		{"a caller without deadline", []time.Time{early, {}}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var batch []*batchCall[int]
			for _, d := range tt.deadlines {
				batch = append(batch, call(d))
			}
			before := time.Now()
			got := b.flushDeadline(batch)
			if !tt.want.IsZero() {
				if !got.Equal(tt.want) {
					t.Fatalf("flush deadline %v, want %v", got, tt.want)
				}
				return
			}
			if got.Before(before.Add(timeout)) || got.After(time.Now().Add(timeout)) {
				t.Fatalf("flush deadline %v, want now + %v", got, timeout)
			}
		})
	}
}

// A flush that returns too few results fails the uncovered items.
func TestBatcherMissingResultIsAnError(t *testing.T) {
	b := newBatcher(jtiBatchMax, time.Second, func(context.Context, []int) ([]error, error) { return nil, nil })
	if err := b.do(t.Context(), 1); !errors.Is(err, errMissingResult) {
		t.Fatalf("got %v, want errMissingResult", err)
	}
}

// UseJTI reports the caller's own cancellation as an error, never success.
func TestUseJTICancelledContext(t *testing.T) {
	s := openSQLiteStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.UseJTI(ctx, jti("c")); !errors.Is(err, context.Canceled) {
		t.Fatalf("UseJTI with a cancelled context: %v", err)
	}
	if err := s.UseJTI(t.Context(), jti("c")); err != nil {
		t.Fatalf("the jti of a cancelled call was recorded: %v", err)
	}
}

func TestWriteLockHonoursContext(t *testing.T) {
	l := newWriteLock()
	if err := l.lock(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := l.lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock: %v, want DeadlineExceeded", err)
	}
	l.unlock()
	if err := l.lock(t.Context()); err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	l.unlock()
	var none writeLock
	if err := none.lock(t.Context()); err != nil {
		t.Fatalf("nil lock: %v", err)
	}
	none.unlock()
}

// An idle batcher flushes a lone call at once; a busy one (a flush just
// ended) holds a small batch until its oldest call is linger old, so a
// call arriving meanwhile shares its commit.
func TestBatcherLingersOnlyWhenBusy(t *testing.T) {
	const linger = 300 * time.Millisecond
	var mu sync.Mutex
	var sizes []int
	b := newBatcher(jtiBatchMax, time.Second, func(_ context.Context, items []int) ([]error, error) {
		mu.Lock()
		defer mu.Unlock()
		sizes = append(sizes, len(items))
		return make([]error, len(items)), nil
	})
	b.linger, b.lingerMin = linger, 4

	start := time.Now()
	if err := b.do(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= linger {
		t.Fatalf("idle call took %v: an idle batcher must not linger", took)
	}

	// Busy now: two calls a few milliseconds apart share one flush.
	var wg sync.WaitGroup
	wg.Go(func() { _ = b.do(t.Context(), 1) })
	queued(t, b, 1)
	time.Sleep(5 * time.Millisecond)
	wg.Go(func() { _ = b.do(t.Context(), 2) })
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(sizes) != 2 || sizes[0] != 1 || sizes[1] != 2 {
		t.Fatalf("flush sizes %v, want [1 2]", sizes)
	}
}

// A lingering batch goes as soon as lingerMin calls are queued, without
// waiting out the rest of linger.
func TestBatcherLingerEndsWhenFilled(t *testing.T) {
	const linger = 10 * time.Second
	b := newBatcher(jtiBatchMax, time.Second, func(_ context.Context, items []int) ([]error, error) {
		return make([]error, len(items)), nil
	})
	b.linger, b.lingerMin = linger, 2
	if err := b.do(t.Context(), 0); err != nil { // now busy
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := 1; i <= 2; i++ {
		wg.Go(func() { _ = b.do(t.Context(), i) })
	}
	wg.Wait()
	if took := time.Since(start); took >= linger/2 {
		t.Fatalf("a filled batch waited %v", took)
	}
}
