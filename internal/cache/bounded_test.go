package cache

import (
	"fmt"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// The clock never holds more than its bound, whatever the order of
// inserts, hits and removals, and its map and ring always agree.
func TestBoundedNeverExceedsBound(t *testing.T) {
	b := newBounded[int, int](8)
	for i := range 1000 {
		b.put(i%37, i)
		if i%3 == 0 {
			b.get(i % 11)
		}
		if i%7 == 0 {
			b.remove(i % 13)
		}
		if b.len() > 8 || len(b.ring) != b.len() {
			t.Fatalf("step %d: %d entries, ring %d; bound 8", i, b.len(), len(b.ring))
		}
		for pos, s := range b.ring {
			if s.pos != pos || b.m[s.key] != s {
				t.Fatalf("step %d: ring and map disagree at %d", i, pos)
			}
		}
	}
}

// An entry read since the hand last passed survives a stream of one-off
// inserts (second chance); one never read again is evicted first.
func TestBoundedKeepsRecentlyRead(t *testing.T) {
	b := newBounded[string, int](4)
	for _, k := range []string{"hot", "a", "b", "c"} {
		b.put(k, 0)
	}
	for i := range 20 {
		if _, ok := b.get("hot"); !ok {
			t.Fatalf("insert %d evicted the entry read before each insert", i)
		}
		b.put(fmt.Sprint("cold", i), i)
	}
	if _, ok := b.get("a"); ok {
		t.Fatal("an entry never read again outlived 20 inserts into 4 slots")
	}
}

// A hit allocates nothing (the reference bit is set in place).
func TestBoundedHitDoesNotAllocate(t *testing.T) {
	b := newBounded[clientKey, storage.Client](4)
	k := clientKey{"ws", "app"}
	b.put(k, storage.Client{ID: "app"})
	if n := testing.AllocsPerRun(100, func() { b.get(k) }); n != 0 {
		t.Fatalf("a hit allocates %v times", n)
	}
}

// Through the Store: reading many clients keeps at most MaxEntries of them,
// and a client evicted and then changed by another process (which this
// cache does not see until it polls) is read fresh from the database.
func TestClientCacheBoundedAndEvictedReadFresh(t *testing.T) {
	db := openSQLite(t)
	under := &counting{Storage: db}
	c := New(under, Options{MaxEntries: 5, PollInterval: time.Hour})
	seed(t, c)
	ctx := t.Context()
	for i := range 20 {
		if err := db.CreateClient(ctx, storage.Client{WorkspaceID: "ws", ID: fmt.Sprint("c", i), Name: "old", Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		if _, err := c.GetClient(ctx, "ws", fmt.Sprint("c", i)); err != nil {
			t.Fatal(err)
		}
		c.mu.RLock()
		n := c.clients.len()
		c.mu.RUnlock()
		if n > 5 {
			t.Fatalf("after %d reads the cache holds %d clients; bound 5", i+1, n)
		}
	}
	// c0 was evicted long ago. Another process renames it; this cache
	// has not polled, so only a fresh read can see the new name.
	if _, err := db.UpdateClient(ctx, "ws", "c0", func(cl storage.Client) (storage.Client, error) {
		cl.Name = "new"
		return cl, nil
	}); err != nil {
		t.Fatal(err)
	}
	before := under.getClient.Load()
	cl, err := c.GetClient(ctx, "ws", "c0")
	if err != nil || cl.Name != "new" {
		t.Fatalf("evicted then changed client: %q, %v; want the new name", cl.Name, err)
	}
	if under.getClient.Load() != before+1 {
		t.Fatal("the evicted client was not read from the database")
	}
	// And the last one read is still served from memory.
	before = under.getClient.Load()
	if _, err := c.GetClient(ctx, "ws", "c19"); err != nil || under.getClient.Load() != before {
		t.Fatalf("recently read client not cached (err %v)", err)
	}
}

// Users are cached once per lookup field; the bound holds for them too.
func TestUserCacheBounded(t *testing.T) {
	db := openSQLite(t)
	c := New(db, Options{MaxEntries: 3, PollInterval: time.Hour})
	seed(t, c)
	ctx := t.Context()
	for i := range 10 {
		u := storage.User{WorkspaceID: "ws", ID: fmt.Sprint("u", i), Username: fmt.Sprint("user", i), Email: fmt.Sprintf("u%d@example.com", i), Active: true}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetUser(ctx, "ws", u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetUserByEmail(ctx, "ws", u.Email); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.RLock()
	n := c.dir.users.len()
	c.mu.RUnlock()
	if n > 3 {
		t.Fatalf("user cache holds %d lookups; bound 3", n)
	}
}

// BenchmarkCachedGetClient is a hit: the clone of the client is the only
// allocation (the bound adds none).
func BenchmarkCachedGetClient(b *testing.B) {
	c := New(openSQLite(b), Options{})
	ctx := b.Context()
	if err := c.CreateWorkspace(ctx, storage.Workspace{ID: "ws", Name: "WS", Enabled: true}); err != nil {
		b.Fatal(err)
	}
	if err := c.CreateClient(ctx, storage.Client{WorkspaceID: "ws", ID: "app", Name: "App", Enabled: true, Scopes: []string{"read"}}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.GetClient(ctx, "ws", "app"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
