package introspect

import (
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/tokens"
)

func TestVerifiedCache(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	at := tokens.AccessToken{JTI: "j", ClientID: "c", ExpiresAt: now.Add(time.Minute)}
	set := keySetID(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{KeyID: "a"}, {KeyID: "b"}}})
	c := newVerifiedCache()
	k := cacheKey("ws", "token")
	c.put(k, set, at)

	if got, ok := c.get(k, set, now); !ok || got.JTI != "j" {
		t.Fatalf("hit: got %v %v", got, ok)
	}
	// P4: once the key set changes (a key removed or rotated in), the
	// cached verification no longer counts.
	removed := keySetID(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{KeyID: "b"}}})
	if _, ok := c.get(k, removed, now); ok {
		t.Fatal("entry survived a key set change")
	}
	if _, ok := c.get(k, set, at.ExpiresAt); ok {
		t.Fatal("expired entry returned")
	}
	if _, ok := c.get(cacheKey("other-ws", "token"), set, now); ok {
		t.Fatal("entry shared across workspaces")
	}
	var nilCache *verifiedCache
	nilCache.put(k, set, at)
	if _, ok := nilCache.get(k, set, now); ok {
		t.Fatal("nil cache hit")
	}
}

func TestVerifiedCacheIsBounded(t *testing.T) {
	c := newVerifiedCache()
	c.max = 100
	for i := range 1000 {
		c.put(cacheKey("ws", string(rune(i))), "", tokens.AccessToken{})
	}
	if n := len(c.entries); n > 100 {
		t.Fatalf("cache grew to %d entries, bound 100", n)
	}
}
