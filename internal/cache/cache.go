package cache

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// DefaultPollInterval is how often Run reads the changes feed.
const DefaultPollInterval = 500 * time.Millisecond

// changesBatch is how many change events one poll reads at a time.
const changesBatch = 500

// Options configures a Store.
type Options struct {
	// PollInterval is how often Run polls the changes feed (default 500ms).
	PollInterval time.Duration
	// MaxEntries bounds each kind of entry: workspaces, clients, scope
	// lists, policies, certificates, trusted issuers, salts, and users
	// per lookup field (default DefaultMaxEntries). Past it, the least
	// recently read entries are evicted (bounded.go).
	MaxEntries int
	Logger     *slog.Logger
}

// Store is a caching storage.Storage. Methods it does not override pass
// straight through to the wrapped store.
type Store struct {
	storage.Storage

	interval time.Duration
	logger   *slog.Logger

	mu         sync.RWMutex
	gen        uint64 // bumped by every invalidation
	workspaces bounded[string, storage.Workspace]
	clients    bounded[clientKey, storage.Client]
	scopes     bounded[string, *storage.ScopeIndex]
	dir        directoryCache
	policies   bounded[clientKey, storage.Policy]

	// bypass is set while the changes feed cannot be read: entries could
	// be stale, so reads go to the database.
	bypass atomic.Bool

	cbMu      sync.RWMutex
	callbacks []func(storage.Change)

	cursorMu sync.Mutex
	cursor   int64
	haveCur  bool
}

type clientKey struct{ workspace, id string }

var _ storage.Storage = (*Store)(nil)

// New wraps s. It reads the newest change ID so that Run later replays only
// what changed after this point.
func New(s storage.Storage, opts Options) *Store {
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Store{
		Storage:    s,
		interval:   opts.PollInterval,
		logger:     opts.Logger,
		workspaces: newBounded[string, storage.Workspace](opts.MaxEntries),
		clients:    newBounded[clientKey, storage.Client](opts.MaxEntries),
		scopes:     newBounded[string, *storage.ScopeIndex](opts.MaxEntries),
		dir:        newDirectoryCache(opts.MaxEntries),
		policies:   newBounded[clientKey, storage.Policy](opts.MaxEntries),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if id, err := s.LastChangeID(ctx); err == nil {
		c.cursor, c.haveCur = id, true
	} else {
		c.logger.Warn("cache: cannot read the changes feed; starting when Run does", "err", err)
	}
	return c
}

// OnChange registers fn to be called for every change: those read from the
// changes feed (own and other processes' writes, with their IDs) and, at
// once, those made through this Store (with ID 0). fn must be quick and
// must not block; it may be called more than once for one change.
func (c *Store) OnChange(fn func(storage.Change)) {
	c.cbMu.Lock()
	defer c.cbMu.Unlock()
	c.callbacks = append(c.callbacks, fn)
}

func (c *Store) notify(ch storage.Change) {
	c.cbMu.RLock()
	cbs := c.callbacks
	c.cbMu.RUnlock()
	for _, fn := range cbs {
		fn(ch)
	}
}

// invalidate drops the entries a change touches and bumps the generation.
func (c *Store) invalidate(ch storage.Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	switch ch.Kind {
	case storage.ChangeWorkspace:
		c.dropWorkspaceLocked(ch.WorkspaceID)
	case storage.ChangeService:
		c.scopes.remove(ch.WorkspaceID)
	case storage.ChangeClient:
		if ch.Key == "" {
			c.dropClientsLocked(ch.WorkspaceID)
		} else {
			c.clients.remove(clientKey{ch.WorkspaceID, ch.Key})
		}
		// A deleted client takes its certificates with it.
		c.invalidateDirectoryLocked(storage.Change{WorkspaceID: ch.WorkspaceID, Kind: storage.ChangeCertificates, Key: ch.Key})
	case storage.ChangeKeys, storage.ChangeProfile:
		// Not cached here; OnChange callbacks handle keys.
	case storage.ChangeUser, storage.ChangeCertificates, storage.ChangeTrustedIssuer:
		c.invalidateDirectoryLocked(ch)
	case storage.ChangePolicy:
		c.policies.remove(clientKey{ch.WorkspaceID, ch.Key})
	default:
		// An event kind this version does not know: be safe.
		c.dropWorkspaceLocked(ch.WorkspaceID)
	}
}

// dropWorkspaceLocked forgets everything of one workspace: a deleted
// workspace takes its clients and services with it.
func (c *Store) dropWorkspaceLocked(ws string) {
	c.workspaces.remove(ws)
	c.scopes.remove(ws)
	c.dropClientsLocked(ws)
	c.dropDirectoryLocked(ws)
	c.dropPoliciesLocked(ws)
}

func (c *Store) dropClientsLocked(ws string) {
	c.clients.removeIf(func(k clientKey) bool { return k.workspace == ws })
}

// Flush empties the cache.
func (c *Store) Flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.workspaces.reset()
	c.clients.reset()
	c.scopes.reset()
	c.dir.reset()
	c.policies.reset()
}

// wrote invalidates and notifies after a write through the wrapper. It
// runs even when the write failed: the write may have committed anyway
// (for instance when the commit acknowledgement was lost).
func (c *Store) wrote(ws, kind, key string) {
	ch := storage.Change{WorkspaceID: ws, Kind: kind, Key: key, At: time.Now().UTC()}
	c.invalidate(ch)
	c.notify(ch)
}

// generation returns the current generation, or false when the cache is
// bypassed.
func (c *Store) generation() (uint64, bool) {
	if c.bypass.Load() {
		return 0, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen, true
}
