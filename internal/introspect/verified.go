package introspect

import (
	"crypto/sha256"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/tokens"
)

// verifiedCache remembers access tokens whose signature, typ and issuer were
// already checked, so that a resource server introspecting the same token
// again does not pay for the signature check again. Introspection is a hot
// path (one call per API request at many resource servers) and signature
// verification is most of its cost.
//
// Only the outcome of the cryptographic check is cached. Expiry, revocation
// and the client's state are checked on every call. An entry records the
// key set it was verified under; any change to that set (rotation or
// emergency removal, SECURITY.md P4) makes it miss, so a removed key stops
// validating at once.
type verifiedCache struct {
	mu      sync.RWMutex
	entries map[[sha256.Size]byte]verifiedEntry
	max     int
}

type verifiedEntry struct {
	token  tokens.AccessToken
	keySet string // kids of the key set at verification time
}

// maxVerifiedEntries bounds memory: an entry is about 300 bytes.
const maxVerifiedEntries = 8192

func newVerifiedCache() *verifiedCache {
	return &verifiedCache{entries: make(map[[sha256.Size]byte]verifiedEntry), max: maxVerifiedEntries}
}

func cacheKey(wsID, raw string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(wsID))
	h.Write([]byte{0})
	h.Write([]byte(raw))
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// keySetID identifies a key set by its kids, which are RFC 7638
// thumbprints: two sets with the same kids hold the same keys.
func keySetID(keys jose.JSONWebKeySet) string {
	var b strings.Builder
	for _, k := range keys.Keys {
		b.WriteString(k.KeyID)
		b.WriteByte(' ')
	}
	return b.String()
}

// sameKeySet reports whether id is keySetID(keys), without building it:
// the hit path of every introspection compares, only a miss stores.
func sameKeySet(keys jose.JSONWebKeySet, id string) bool {
	for _, k := range keys.Keys {
		n := len(k.KeyID)
		if len(id) < n+1 || id[:n] != k.KeyID || id[n] != ' ' {
			return false
		}
		id = id[n+1:]
	}
	return id == ""
}

// get returns the cached token when it was verified under the same key set
// and has not expired at now.
func (c *verifiedCache) get(key [sha256.Size]byte, keys jose.JSONWebKeySet, now time.Time) (tokens.AccessToken, bool) {
	if c == nil {
		return tokens.AccessToken{}, false
	}
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !sameKeySet(keys, e.keySet) || !now.Before(e.token.ExpiresAt) {
		return tokens.AccessToken{}, false
	}
	return e.token, true
}

func (c *verifiedCache) put(key [sha256.Size]byte, keySet string, at tokens.AccessToken) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		c.evict()
	}
	c.entries[key] = verifiedEntry{token: at, keySet: keySet}
}

// evict drops about a quarter of the entries; map iteration order makes
// the choice effectively random, which is good enough for a cache whose
// misses only cost a signature check.
func (c *verifiedCache) evict() {
	n := len(c.entries) / 4
	for k := range c.entries {
		if n <= 0 {
			return
		}
		delete(c.entries, k)
		n--
	}
}
