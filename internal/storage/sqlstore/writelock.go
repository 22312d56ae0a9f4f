package sqlstore

import "context"

// writeLock serializes this process's writes to a SQLite database.
//
// SQLite allows one writer at a time per database file. Without this lock,
// concurrent writers of one process all race for the file lock, and the
// losers sleep in SQLite's busy handler, which polls with growing sleeps
// (up to 100 ms) rather than waking when the lock frees: under load most of
// the time goes to sleeping, not to writing. Queuing in Go hands the lock
// over at once, in arrival order. The busy timeout still covers writers in
// other processes (`latchkey migrate` while serving).
//
// It is a one-slot channel rather than a sync.Mutex so that waiting honours
// the caller's context. The nil writeLock (PostgreSQL, which has row locks
// and many concurrent writers) does nothing.
type writeLock chan struct{}

func newWriteLock() writeLock { return make(writeLock, 1) }

// lock takes the lock, or returns the context's error if ctx ends first.
func (l writeLock) lock(ctx context.Context) error {
	if l == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// unlock releases a lock taken by lock.
func (l writeLock) unlock() {
	if l != nil {
		<-l
	}
}
