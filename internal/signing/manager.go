package signing

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/storage"
)

// Defaults of Options.
const (
	DefaultPublishLead = 10 * time.Minute
	DefaultMaxTokenTTL = 24 * time.Hour
	// RetireSkew is added to the longest token lifetime before a retired
	// key may leave the JWKS, for clock skew between us and verifiers.
	RetireSkew = 60 * time.Second
)

// ErrNoActiveKey is returned by Manager.Signer when a workspace has no
// usable active key (EnsureKeys was never called, or the key cannot be
// decrypted with the current master keys).
var ErrNoActiveKey = errors.New("signing: workspace has no active signing key")

// Options configure a Manager. Zero values take the defaults.
type Options struct {
	Now    func() time.Time
	Logger *slog.Logger
	// PublishLead is how long a "next" key must be published before the
	// scheduler lets it sign (default 10m); it must be at least the JWKS
	// cache max-age the discovery handler advertises.
	PublishLead time.Duration
	// MaxTokenTTL is the longest lifetime of a token the workspace may have
	// signed; retired keys stay published for this plus RetireSkew.
	// Default: DefaultMaxTokenTTL for every workspace.
	MaxTokenTTL func(wsID string) time.Duration
}

// KeyStore is what the Manager needs from storage: each workspace's key
// set, and the workspaces the scheduler walks.
type KeyStore interface {
	ListSigningKeys(ctx context.Context, workspaceID string) ([]storage.SigningKey, error)
	// UpdateSigningKeys replaces a workspace's key set atomically, across
	// processes (the compare-and-swap of Rotate).
	UpdateSigningKeys(ctx context.Context, workspaceID string, updater func([]storage.SigningKey) ([]storage.SigningKey, error)) ([]storage.SigningKey, error)
	ListWorkspaces(ctx context.Context, opts storage.ListOptions) (storage.Page[storage.Workspace], error)
}

// The production implementation.
var _ KeyStore = storage.Storage(nil)

// Manager owns the signing keys of every workspace. It is safe for
// concurrent use.
type Manager struct {
	store KeyStore
	kr    *secrets.Keyring
	opts  Options
	log   *slog.Logger

	cache sync.Map // workspace ID → *wsState; read lock-free on the hot path

	mu    sync.Mutex
	gens  map[string]uint64 // bumped by Invalidate so stale loads are not cached
	loads map[string]*loadCall
}

// wsState is the immutable cached view of one workspace's keys.
type wsState struct {
	signer    *KeySigner // nil when there is no usable active key
	signerErr error
	jwks      jose.JSONWebKeySet
	jwksJSON  []byte
}

type loadCall struct {
	done chan struct{}
	st   *wsState
	err  error
}

// NewManager returns a Manager over store, decrypting private keys with kr.
func NewManager(store KeyStore, kr *secrets.Keyring, opts Options) *Manager {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PublishLead <= 0 {
		opts.PublishLead = DefaultPublishLead
	}
	if opts.MaxTokenTTL == nil {
		opts.MaxTokenTTL = func(string) time.Duration { return DefaultMaxTokenTTL }
	}
	return &Manager{
		store: store, kr: kr, opts: opts, log: opts.Logger.With("component", "signing"),
		gens: make(map[string]uint64), loads: make(map[string]*loadCall),
	}
}

// Signer returns the signer of the workspace's active key. After the first
// call it is served from memory.
func (m *Manager) Signer(ctx context.Context, wsID string) (Signer, error) {
	st, err := m.state(ctx, wsID)
	if err != nil {
		return nil, err
	}
	if st.signer == nil {
		return nil, st.signerErr
	}
	return st.signer, nil
}

// PublicKeys returns the published keys (active, next, retired), public
// parts only. The caller may not modify the keys.
func (m *Manager) PublicKeys(ctx context.Context, wsID string) (jose.JSONWebKeySet, error) {
	st, err := m.state(ctx, wsID)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	return jose.JSONWebKeySet{Keys: slices.Clone(st.jwks.Keys)}, nil
}

// VerifyKeys is PublicKeys, named for callers that verify our own tokens.
func (m *Manager) VerifyKeys(ctx context.Context, wsID string) (jose.JSONWebKeySet, error) {
	return m.PublicKeys(ctx, wsID)
}

// JWKS returns the JSON document served at the workspace's JWKS endpoint.
// The bytes are shared: callers must not modify them.
func (m *Manager) JWKS(ctx context.Context, wsID string) ([]byte, error) {
	st, err := m.state(ctx, wsID)
	if err != nil {
		return nil, err
	}
	return st.jwksJSON, nil
}

// Keys returns the metadata of every key of the workspace for admin
// listings, active first, then next, then retired; private parts removed.
func (m *Manager) Keys(ctx context.Context, wsID string) ([]storage.SigningKey, error) {
	keys, err := m.store.ListSigningKeys(ctx, wsID)
	if err != nil {
		return nil, fmt.Errorf("signing: list keys: %w", err)
	}
	for i := range keys {
		keys[i].PrivateCiphertext = nil
	}
	sortKeys(keys)
	return keys, nil
}

// Invalidate drops the cached keys of a workspace; the next call loads
// them from storage. The server calls it on storage.ChangeKeys events.
func (m *Manager) Invalidate(wsID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gens[wsID]++
	m.cache.Delete(wsID)
}

func (m *Manager) state(ctx context.Context, wsID string) (*wsState, error) {
	if v, ok := m.cache.Load(wsID); ok {
		return v.(*wsState), nil
	}
	return m.loadShared(ctx, wsID)
}

// loadShared loads a workspace's keys once for all concurrent callers, and
// caches the result unless Invalidate ran meanwhile (the load may then have
// read the old keys).
func (m *Manager) loadShared(ctx context.Context, wsID string) (*wsState, error) {
	m.mu.Lock()
	if c, ok := m.loads[wsID]; ok {
		m.mu.Unlock()
		return c.wait(ctx)
	}
	c := &loadCall{done: make(chan struct{})}
	m.loads[wsID] = c
	gen := m.gens[wsID]
	m.mu.Unlock()

	c.st, c.err = m.load(ctx, wsID)

	m.mu.Lock()
	delete(m.loads, wsID)
	if c.err == nil && m.gens[wsID] == gen && len(c.st.jwks.Keys) > 0 {
		m.cache.Store(wsID, c.st)
	}
	m.mu.Unlock()
	close(c.done)
	return c.st, c.err
}

func (c *loadCall) wait(ctx context.Context) (*wsState, error) {
	select {
	case <-c.done:
		return c.st, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// load reads the workspace's keys and builds its state. A key that cannot
// be parsed is logged and left out rather than failing the whole set, so
// one damaged retired key cannot stop signing.
func (m *Manager) load(ctx context.Context, wsID string) (*wsState, error) {
	keys, err := m.store.ListSigningKeys(ctx, wsID)
	if err != nil {
		return nil, fmt.Errorf("signing: list keys: %w", err)
	}
	sortKeys(keys)
	now := m.opts.Now()
	st := &wsState{signerErr: ErrNoActiveKey, jwks: jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}}
	for _, k := range keys {
		m.addKey(st, k, now)
	}
	st.jwksJSON, err = json.Marshal(st.jwks)
	if err != nil {
		return nil, fmt.Errorf("signing: encode JWKS: %w", err)
	}
	return st, nil
}

func (m *Manager) addKey(st *wsState, k storage.SigningKey, now time.Time) {
	switch k.State {
	case storage.KeyActive, storage.KeyNext, storage.KeyRetired:
	default:
		m.log.Error("skipping signing key in unknown state", "workspace", k.WorkspaceID, "kid", k.KID, "state", k.State)
		return
	}
	if k.State == storage.KeyRetired && !k.RetireUntil.IsZero() && !now.Before(k.RetireUntil) {
		return // every token it signed has expired: no longer published
	}
	pub, err := parsePublic(k)
	if err != nil {
		m.log.Error("skipping unusable signing key", "workspace", k.WorkspaceID, "kid", k.KID, "err", err)
		return
	}
	if k.State == storage.KeyActive && st.signer == nil {
		st.signer, st.signerErr = m.activeSigner(k)
	}
	st.jwks.Keys = append(st.jwks.Keys, pub)
}

func (m *Manager) activeSigner(k storage.SigningKey) (*KeySigner, error) {
	priv, err := decryptPrivate(m.kr, k)
	if err == nil {
		var s *KeySigner
		if s, err = newKeySigner(priv, k.Alg); err == nil {
			return s, nil
		}
	}
	m.log.Error("active signing key is unusable", "workspace", k.WorkspaceID, "kid", k.KID, "err", err)
	return nil, fmt.Errorf("%w: %w", ErrNoActiveKey, err)
}

// sortKeys orders keys active, next, retired; newest first within a state
// (so the newest active key wins should the store ever hold two).
func sortKeys(keys []storage.SigningKey) {
	rank := map[string]int{storage.KeyActive: 0, storage.KeyNext: 1, storage.KeyRetired: 2}
	slices.SortStableFunc(keys, func(a, b storage.SigningKey) int {
		ra, oka := rank[a.State]
		rb, okb := rank[b.State]
		if !oka {
			ra = 3
		}
		if !okb {
			rb = 3
		}
		if c := cmp.Compare(ra, rb); c != 0 {
			return c
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
}
