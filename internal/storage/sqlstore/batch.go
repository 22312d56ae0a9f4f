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
// There is no timer and no wait for a batch to fill: the first call on an
// idle batcher starts a flush at once with whatever is queued (often only
// itself), and calls that arrive while a flush is running form the next
// batch, up to max per flush. So an idle store adds no latency, and under
// load the batch size adapts to the arrival rate during one commit.
type batcher[T any] struct {
	max int
	// flush writes items in one transaction. It returns one result per
	// item, meaningful only when err is nil; err (for instance a failed
	// COMMIT) is the result of every item, so no caller ever sees a
	// success that did not reach the database.
	flush func(ctx context.Context, items []T) (results []error, err error)
	// timeout bounds one flush. A flush does not use any caller's context:
	// one caller giving up must not fail the others of its batch.
	timeout time.Duration

	mu      sync.Mutex
	queue   []*batchCall[T]
	running bool
}

type batchCall[T any] struct {
	ctx  context.Context
	item T
	// done receives the result exactly once; buffered so that the flusher
	// never blocks on a caller that stopped waiting.
	done chan error
}

func newBatcher[T any](max int, timeout time.Duration, flush func(context.Context, []T) ([]error, error)) *batcher[T] {
	return &batcher[T]{max: max, timeout: timeout, flush: flush}
}

// do queues item and waits for the result of the flush that carries it.
// If ctx ends first, do returns ctx.Err(): the item is withdrawn if it is
// still queued, and otherwise its flush may or may not commit it (as with
// any cancelled database call); either way the caller sees a failure.
func (b *batcher[T]) do(ctx context.Context, item T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &batchCall[T]{ctx: ctx, item: item, done: make(chan error, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	if !b.running {
		b.running = true
		go b.run()
	}
	b.mu.Unlock()
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		b.withdraw(c)
		return ctx.Err()
	}
}

// withdraw removes c from the queue if no flush has taken it yet.
func (b *batcher[T]) withdraw(c *batchCall[T]) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, q := range b.queue {
		if q == c {
			b.queue = append(b.queue[:i], b.queue[i+1:]...)
			return
		}
	}
}

// run flushes batches until the queue is empty, then exits; the next call
// starts a new run. At most one run is active, so flushes are sequential
// and the batch that forms during one flush is the next one.
func (b *batcher[T]) run() {
	for {
		batch := b.take()
		if batch == nil {
			return
		}
		b.flushBatch(batch)
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
	ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), b.timeout)
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
