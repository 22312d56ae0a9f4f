package sqlstore

import (
	"context"
	"errors"
	"sync"
	"time"
)

// errMissingResult guards against a flush that returns fewer results than
// items: such an item fails rather than reading as success.
var errMissingResult = errors.New("sqlstore: batch flush returned no result for an item")

// batcher implements group commit: concurrent calls are gathered and
// flushed together, so that N callers share one transaction and one
// fsync instead of paying one each.
//
// An idle batcher does not wait for a batch to fill: the first call starts
// a flush at once with whatever is queued (often only itself), and calls
// that arrive while a flush is running form the next batch, up to max per
// flush. So an idle store adds no latency, and under load the batch size
// adapts to the arrival rate during one commit.
//
// At moderate rates that alone gives batches of one: with RS256 tokens a
// few hundred microseconds apart, each call arrives after the previous
// commit ended and pays a commit of its own (an fsync and its kernel time,
// about 0.1 ms of CPU here, a tenth of the signature). So while the store
// is busy (a flush ended less than busyWindow ago) a small batch lingers
// until its oldest call has waited linger, letting the next few join. The
// JWT bearer grant spends its jti while it signs, so that wait hides
// behind the signature.
type batcher[T any] struct {
	max int
	// linger is how long a small batch of a busy batcher waits for
	// company (0: never); lingerMin is the size that no longer waits.
	linger    time.Duration
	lingerMin int
	// flush writes items in one transaction. It returns one result per
	// item, meaningful only when err is nil; err (for instance a failed
	// COMMIT) is the result of every item, so no caller ever sees a
	// success that did not reach the database.
	flush func(ctx context.Context, items []T) (results []error, err error)
	// timeout bounds one flush. A flush does not use any caller's
	// cancellation (one caller giving up must not fail the others of its
	// batch), only their deadlines: it ends at the latest of them, or after
	// timeout when that comes first or a caller has none (flushDeadline).
	timeout time.Duration

	mu      sync.Mutex
	queue   []*batchCall[T]
	running bool
	// lastFlush is when the latest flush ended (zero: never).
	lastFlush time.Time
	// filled wakes a lingering run as soon as lingerMin calls are queued.
	filled chan struct{}
}

// busyWindow: a batcher whose last flush ended this recently is under
// load, and lingers; after a longer pause the next call flushes at once.
const busyWindow = 5 * time.Millisecond

type batchCall[T any] struct {
	ctx  context.Context
	item T
	at   time.Time // when the call was queued
	// done receives the result exactly once; buffered so that the flusher
	// never blocks on a caller that stopped waiting.
	done chan error
	// taken is set, under the batcher's mutex, when a flush takes the call.
	taken bool
}

func newBatcher[T any](max int, timeout time.Duration, flush func(context.Context, []T) ([]error, error)) *batcher[T] {
	return &batcher[T]{max: max, timeout: timeout, flush: flush, filled: make(chan struct{}, 1)}
}

// do queues item and waits for the result of the flush that carries it.
// If ctx ends while the item is still queued, it is withdrawn and do
// returns ctx.Err(). Once a flush has taken it, do waits for that flush's
// outcome even past ctx's end, so a caller told "failed" never finds its
// item written, and one whose item was written is told so
// (docs/security.md R6); the flush ends by the latest deadline of its
// callers (flushDeadline).
func (b *batcher[T]) do(ctx context.Context, item T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &batchCall[T]{ctx: ctx, item: item, at: time.Now(), done: make(chan error, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	if len(b.queue) == b.lingerMin {
		select {
		case b.filled <- struct{}{}:
		default:
		}
	}
	if !b.running {
		b.running = true
		go b.run()
	}
	b.mu.Unlock()
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		if b.withdraw(c) {
			return ctx.Err()
		}
		// Taken by a flush, or answered by take: the outcome is the answer.
		return <-c.done
	}
}

// withdraw removes c from the queue and reports true if no flush has
// taken it yet.
func (b *batcher[T]) withdraw(c *batchCall[T]) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, q := range b.queue {
		if q == c {
			b.queue = append(b.queue[:i], b.queue[i+1:]...)
			return true
		}
	}
	return false
}

// run flushes batches until the queue is empty, then exits; the next call
// starts a new run. At most one run is active, so flushes are sequential
// and the batch that forms during one flush is the next one.
func (b *batcher[T]) run() {
	for {
		b.lingerIfBusy()
		batch := b.take()
		if batch == nil {
			return
		}
		b.flushBatch(batch)
		b.mu.Lock()
		b.lastFlush = time.Now()
		b.mu.Unlock()
	}
}

// lingerIfBusy waits, when the batcher is busy and fewer than lingerMin
// calls are queued, until the oldest queued call has waited linger or
// lingerMin calls are queued, whichever comes first.
func (b *batcher[T]) lingerIfBusy() {
	if b.linger <= 0 {
		return
	}
	b.mu.Lock()
	queued := len(b.queue)
	busy := !b.lastFlush.IsZero() && time.Since(b.lastFlush) < busyWindow
	var oldest time.Time
	if queued > 0 {
		oldest = b.queue[0].at
	}
	select { // a signal of an earlier batch
	case <-b.filled:
	default:
	}
	b.mu.Unlock()
	if !busy || queued == 0 || queued >= b.lingerMin {
		return
	}
	wait := b.linger - time.Since(oldest)
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-b.filled:
	}
}

// take removes up to max live calls from the head of the queue. Calls
// whose context already ended are answered and skipped, so a flush never
// writes for a caller that is gone. It returns nil, and marks the batcher
// idle, when nothing is left.
func (b *batcher[T]) take() []*batchCall[T] {
	b.mu.Lock()
	defer b.mu.Unlock()
	var batch []*batchCall[T]
	n := 0
	for n < len(b.queue) && len(batch) < b.max {
		c := b.queue[n]
		n++
		if err := c.ctx.Err(); err != nil {
			c.done <- err
			continue
		}
		c.taken = true
		batch = append(batch, c)
	}
	b.queue = append(b.queue[:0], b.queue[n:]...)
	if len(batch) == 0 && len(b.queue) == 0 {
		b.running = false
		return nil
	}
	return batch
}

func (b *batcher[T]) flushBatch(batch []*batchCall[T]) {
	// Keep the first caller's context values (trace IDs for logs), not its
	// cancellation.
	ctx, cancel := context.WithDeadline(context.WithoutCancel(batch[0].ctx), b.flushDeadline(batch))
	defer cancel()
	items := make([]T, len(batch))
	for i, c := range batch {
		items[i] = c.item
	}
	results, err := b.flush(ctx, items)
	for i, c := range batch {
		switch {
		case err != nil:
			c.done <- err
		case i < len(results):
			c.done <- results[i]
		default:
			// A flush that forgot an item must not read as success.
			c.done <- errMissingResult
		}
	}
}

// flushDeadline is when a flush of batch gives up: at the latest deadline
// of its callers, since after that nobody waits for the outcome in time
// and the write must not commit (tryTx checks it before COMMIT), and at
// most timeout from now.
func (b *batcher[T]) flushDeadline(batch []*batchCall[T]) time.Time {
	limit := time.Now().Add(b.timeout)
	var latest time.Time
	for _, c := range batch {
		d, ok := c.ctx.Deadline()
		if !ok {
			return limit
		}
		if d.After(latest) {
			latest = d
		}
	}
	if latest.Before(limit) {
		return latest
	}
	return limit
}
