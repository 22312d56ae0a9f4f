package signing

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/storage"
)

// memStore is an in-memory KeyStore.
type memStore struct {
	mu         sync.Mutex
	keys       map[string][]storage.SigningKey
	workspaces []storage.Workspace
	lists      int
	updates    int // committed updates
	// rerun makes UpdateSigningKeys call the updater twice, as a backend
	// does on a serialization retry, to prove the updater is pure.
	rerun bool
	// listHook runs after every ListSigningKeys (outside the lock).
	listHook func()
}

func newMemStore() *memStore { return &memStore{keys: make(map[string][]storage.SigningKey)} }

func (s *memStore) ListSigningKeys(_ context.Context, ws string) ([]storage.SigningKey, error) {
	s.mu.Lock()
	s.lists++
	out := slices.Clone(s.keys[ws])
	hook := s.listHook
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	return out, nil
}

func (s *memStore) UpdateSigningKeys(_ context.Context, ws string, fn func([]storage.SigningKey) ([]storage.SigningKey, error)) ([]storage.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rerun {
		if _, err := fn(slices.Clone(s.keys[ws])); err != nil {
			return nil, err
		}
	}
	out, err := fn(slices.Clone(s.keys[ws]))
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].WorkspaceID = ws
	}
	s.keys[ws] = slices.Clone(out)
	s.updates++
	return out, nil
}

func (s *memStore) ListWorkspaces(_ context.Context, opts storage.ListOptions) (storage.Page[storage.Workspace], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Pages of one, to exercise the scheduler's paging.
	for i, w := range s.workspaces {
		if w.ID > opts.After {
			p := storage.Page[storage.Workspace]{Items: []storage.Workspace{w}}
			if i+1 < len(s.workspaces) {
				p.Next = w.ID
			}
			return p, nil
		}
	}
	return storage.Page[storage.Workspace]{}, nil
}

func (s *memStore) snapshot(ws string) []storage.SigningKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.keys[ws])
}

func (s *memStore) counts() (lists, updates int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists, s.updates
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const testTTL = time.Hour

func testKeyring(t testing.TB) *secrets.Keyring {
	t.Helper()
	kr, err := secrets.New(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func newTestManager(t testing.TB, store KeyStore, kr *secrets.Keyring, c *clock) *Manager {
	t.Helper()
	return NewManager(store, kr, Options{
		Now:         c.Now,
		PublishLead: 10 * time.Minute,
		MaxTokenTTL: func(string) time.Duration { return testTTL },
	})
}

func byState(keys []storage.SigningKey, state string) []storage.SigningKey {
	var out []storage.SigningKey
	for _, k := range keys {
		if k.State == state {
			out = append(out, k)
		}
	}
	return out
}

func one(t *testing.T, keys []storage.SigningKey, state string) storage.SigningKey {
	t.Helper()
	ks := byState(keys, state)
	if len(ks) != 1 {
		t.Fatalf("%d keys in state %s, want 1: %+v", len(ks), state, keys)
	}
	return ks[0]
}
