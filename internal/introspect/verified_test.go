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
	keys := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{KeyID: "a"}, {KeyID: "b"}}}
	set := keySetID(keys)
	c := newVerifiedCache()
	k := cacheKey("ws", "token")
	c.put(k, set, at)

	if got, ok := c.get(k, keys, now); !ok || got.JTI != "j" {
		t.Fatalf("hit: got %v %v", got, ok)
	}
	// P4: once the key set changes (a key removed or rotated in), the
	// cached verification no longer counts.
	for name, changed := range map[string][]string{
		"removed": {"b"}, "added": {"a", "b", "c"}, "reordered": {"b", "a"},
		"renamed": {"a", "bb"}, "none": nil,
	} {
		var set jose.JSONWebKeySet
		for _, kid := range changed {
			set.Keys = append(set.Keys, jose.JSONWebKey{KeyID: kid})
		}
		if _, ok := c.get(k, set, now); ok {
			t.Fatalf("entry survived a key set change (%s)", name)
		}
	}
	if _, ok := c.get(k, keys, at.ExpiresAt); ok {
		t.Fatal("expired entry returned")
	}
	if _, ok := c.get(cacheKey("other-ws", "token"), keys, now); ok {
		t.Fatal("entry shared across workspaces")
	}
	var nilCache *verifiedCache
	nilCache.put(k, set, at)
	if _, ok := nilCache.get(k, keys, now); ok {
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
