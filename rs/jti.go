package rs

import (
	"context"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// maxJTIs bounds the DPoP proof identifiers remembered by one process.
const maxJTIs = 100_000

// jtiCache remembers the jti of every DPoP proof this process accepted
// until the proof could no longer be accepted (RFC 9449 §11.1), so a
// replayed proof is refused. It is per process: resource servers that run
// several processes behind one URL share nothing, and a proof replayed
// to another process within the acceptance window (a few minutes, htu
// and ath still bind it to the same request and token) is not detected.
type jtiCache struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]time.Time
}

func newJTICache(now func() time.Time) *jtiCache {
	return &jtiCache{now: now, m: map[string]time.Time{}}
}

// UseJTI records j, or reports storage.ErrAlreadyExists for a jti seen
// before that has not expired.
func (c *jtiCache) UseJTI(_ context.Context, j storage.JTI) error {
	key := j.WorkspaceID + "\x00" + j.Namespace + "\x00" + j.Issuer + "\x00" + j.JTI
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.m[key]; ok && now.Before(exp) {
		return storage.ErrAlreadyExists
	}
	if len(c.m) >= maxJTIs {
		for k, exp := range c.m {
			if !now.Before(exp) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxJTIs {
			return storage.ErrUnavailable // refuse rather than forget
		}
	}
	c.m[key] = j.ExpiresAt
	return nil
}
