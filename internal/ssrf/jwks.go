package ssrf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/jwtx"
)

// Defaults for NewJWKSCache.
const (
	DefaultTTL      = 5 * time.Minute
	DefaultCooldown = time.Minute
	DefaultMaxKeys  = 100
	maxEntries      = 10000
)

// ErrFetch is the error every failed fetch wraps; its text is generic on
// purpose (L6: "connection refused" would make jwks_uri a port scanner).
var ErrFetch = errors.New("ssrf: could not fetch the key set")

// CacheOptions configures a JWKSCache. Zero values select the defaults.
type CacheOptions struct {
	TTL      time.Duration // how long a fetched set is served, default 5 min
	Cooldown time.Duration // minimum time between fetches of one URL, default 1 min (A5)
	MaxKeys  int           // keys per set, default 100 (L5)
	Now      func() time.Time
	Logger   *slog.Logger
}

// JWKSCache fetches and caches JSON Web Key Sets by URL.
type JWKSCache struct {
	client *http.Client
	opts   CacheOptions

	mu       sync.Mutex
	entries  map[string]*entry
	inflight map[string]*call
}

type entry struct {
	set       jose.JSONWebKeySet
	err       error     // result of the last attempt when it failed
	fetchedAt time.Time // last successful fetch
	triedAt   time.Time // last attempt, successful or not
}

// call is one fetch in progress that concurrent callers wait for.
type call struct {
	done chan struct{}
	set  jose.JSONWebKeySet
	err  error
}

// NewJWKSCache returns a cache fetching through client, which should come
// from NewClient. TTL, refetch cool-down per URL (1/min), body cap 256KiB
// (enforced by the client), max 100 keys.
func NewJWKSCache(client *http.Client, opts CacheOptions) *JWKSCache {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Cooldown <= 0 {
		opts.Cooldown = DefaultCooldown
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = DefaultMaxKeys
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &JWKSCache{client: client, opts: opts, entries: map[string]*entry{}, inflight: map[string]*call{}}
}

// Get returns the key set of uri, from the cache while it is fresher than
// the TTL. A failed fetch is remembered for the cool-down so that a broken
// or hostile URL is not hammered.
func (c *JWKSCache) Get(ctx context.Context, uri string) (jose.JSONWebKeySet, error) {
	c.mu.Lock()
	now := c.opts.Now()
	if e := c.entries[uri]; e != nil {
		if e.err == nil && now.Sub(e.fetchedAt) < c.opts.TTL {
			c.mu.Unlock()
			return e.set, nil
		}
		if e.err != nil && now.Sub(e.triedAt) < c.opts.Cooldown {
			c.mu.Unlock()
			return jose.JSONWebKeySet{}, e.err
		}
	}
	return c.fetchLocked(ctx, uri)
}

// Refresh refetches uri unless it was fetched within the cool-down, in which
// case it returns the cached set (SECURITY.md A5: an unknown kid costs at
// most one fetch per URL per cool-down, however many requests carry it).
func (c *JWKSCache) Refresh(ctx context.Context, uri string) (jose.JSONWebKeySet, error) {
	c.mu.Lock()
	if e := c.entries[uri]; e != nil && c.opts.Now().Sub(e.triedAt) < c.opts.Cooldown {
		c.mu.Unlock()
		if e.err != nil {
			return jose.JSONWebKeySet{}, e.err
		}
		return e.set, nil
	}
	return c.fetchLocked(ctx, uri)
}

// fetchLocked joins or starts the one fetch of uri; c.mu is held on entry
// and released before waiting.
func (c *JWKSCache) fetchLocked(ctx context.Context, uri string) (jose.JSONWebKeySet, error) {
	cl := c.inflight[uri]
	if cl == nil {
		cl = &call{done: make(chan struct{})}
		c.inflight[uri] = cl
		// The fetch outlives a cancelled first caller so that the others
		// waiting on it still get a result; the client timeout bounds it.
		go c.run(context.WithoutCancel(ctx), uri, cl)
	}
	c.mu.Unlock()
	select {
	case <-cl.done:
		return cl.set, cl.err
	case <-ctx.Done():
		return jose.JSONWebKeySet{}, ctx.Err()
	}
}

func (c *JWKSCache) run(ctx context.Context, uri string, cl *call) {
	set, err := c.fetch(ctx, uri)
	if err != nil {
		c.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "jwks fetch failed", slog.String("uri", uri), slog.String("error", err.Error()))
		err = ErrFetch
	}
	c.mu.Lock()
	c.store(uri, set, err)
	delete(c.inflight, uri)
	cl.set, cl.err = set, err
	c.mu.Unlock()
	close(cl.done)
}

// store records a fetch result, keeping the map bounded.
func (c *JWKSCache) store(uri string, set jose.JSONWebKeySet, err error) {
	now := c.opts.Now()
	if _, ok := c.entries[uri]; !ok && len(c.entries) >= maxEntries {
		c.evict(now)
	}
	e := c.entries[uri]
	if e == nil {
		e = &entry{}
		c.entries[uri] = e
	}
	e.triedAt, e.err = now, err
	if err == nil {
		e.set, e.fetchedAt = set, now
	}
}

// evict drops entries past their TTL, or one arbitrary entry when none is.
func (c *JWKSCache) evict(now time.Time) {
	for uri, e := range c.entries {
		if now.Sub(e.triedAt) >= c.opts.TTL {
			delete(c.entries, uri)
		}
	}
	for uri := range c.entries {
		if len(c.entries) < maxEntries {
			return
		}
		delete(c.entries, uri)
	}
}

func (c *JWKSCache) fetch(ctx context.Context, uri string) (jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return jose.JSONWebKeySet{}, fmt.Errorf("status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	return ParseJWKS(body, c.opts.MaxKeys)
}

// ParseJWKS parses a key set strictly (RFC 7517 §5): one JSON object with
// no duplicate members, a "keys" array of at most maxKeys valid keys, every
// key public (a set carrying private or symmetric material is refused as a
// whole: whoever published it has leaked a secret, and symmetric keys must
// never verify assertions, A3).
func ParseJWKS(body []byte, maxKeys int) (jose.JSONWebKeySet, error) {
	if err := jwtx.CheckJSONObject(body); err != nil {
		return jose.JSONWebKeySet{}, fmt.Errorf("key set: %w", err)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Keys == nil {
		return jose.JSONWebKeySet{}, errors.New("key set: no keys array")
	}
	if len(doc.Keys) > maxKeys {
		return jose.JSONWebKeySet{}, fmt.Errorf("key set: more than %d keys", maxKeys)
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(doc.Keys))}
	for i, raw := range doc.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil || !k.Valid() {
			return jose.JSONWebKeySet{}, fmt.Errorf("key set: key %d is invalid", i)
		}
		if !k.IsPublic() {
			return jose.JSONWebKeySet{}, fmt.Errorf("key set: key %d is not a public key", i)
		}
		set.Keys = append(set.Keys, k)
	}
	return set, nil
}
