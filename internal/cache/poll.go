package cache

import (
	"context"
	"time"
)

// Run polls the changes feed every PollInterval and applies what it finds,
// until ctx ends. Call it once per Store in a goroutine of its own.
func (c *Store) Run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		c.Poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll reads the changes feed once and applies every event after the last
// one seen. Run calls it on a timer; tests and tools may call it directly.
// On failure the cache is flushed and bypassed until a poll succeeds: an
// unreadable feed must not keep stale entries alive.
func (c *Store) Poll(ctx context.Context) {
	c.cursorMu.Lock()
	defer c.cursorMu.Unlock()
	if err := c.pollLocked(ctx); err != nil {
		if ctx.Err() != nil {
			return
		}
		if !c.bypass.Swap(true) {
			c.logger.WarnContext(ctx, "cache: changes feed unreadable; bypassing cache", "err", err)
		}
		c.Flush()
		return
	}
	if c.bypass.Swap(false) {
		c.logger.InfoContext(ctx, "cache: changes feed readable again; caching resumed")
	}
}

func (c *Store) pollLocked(ctx context.Context) error {
	if !c.haveCur {
		id, err := c.Storage.LastChangeID(ctx)
		if err != nil {
			return err
		}
		// Whatever was cached before now may have changed unseen.
		c.Flush()
		c.cursor, c.haveCur = id, true
		return nil
	}
	for {
		changes, err := c.Storage.Changes(ctx, c.cursor, changesBatch)
		if err != nil {
			return err
		}
		for _, ch := range changes {
			c.invalidate(ch)
			c.notify(ch)
			c.cursor = ch.ID
		}
		if len(changes) < changesBatch {
			return nil
		}
	}
}
