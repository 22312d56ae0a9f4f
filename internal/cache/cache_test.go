package cache

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/storage/conformance"
	"github.com/latchkey/latchkey/internal/storage/sqlstore"
)

func openSQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "lk.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// The wrapper must itself satisfy the whole storage contract.
func newCached(t *testing.T) storage.Storage {
	s, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "lk.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return New(s, Options{})
}

func TestConformanceThroughCache(t *testing.T) { conformance.RunTests(t, newCached) }

func TestTenantIsolationThroughCache(t *testing.T) {
	conformance.RunTenantIsolationTests(t, newCached)
}

func TestConcurrencyThroughCache(t *testing.T) { conformance.RunConcurrencyTests(t, newCached) }

// counting wraps a store, counting reads and optionally failing Changes or
// pausing GetClient.
type counting struct {
	storage.Storage
	getClient    atomic.Int32
	getWorkspace atomic.Int32
	listScopes   atomic.Int32
	failChanges  atomic.Bool
	pause        chan chan struct{} // when set, GetClient hands out a gate and waits on it
}

func (c *counting) GetClient(ctx context.Context, ws, id string) (storage.Client, error) {
	c.getClient.Add(1)
	cl, err := c.Storage.GetClient(ctx, ws, id)
	if c.pause != nil {
		gate := make(chan struct{})
		c.pause <- gate
		<-gate
	}
	return cl, err
}

func (c *counting) GetWorkspace(ctx context.Context, id string) (storage.Workspace, error) {
	c.getWorkspace.Add(1)
	return c.Storage.GetWorkspace(ctx, id)
}

func (c *counting) ListScopes(ctx context.Context, ws string) ([]storage.ScopeRef, error) {
	c.listScopes.Add(1)
	return c.Storage.ListScopes(ctx, ws)
}

func (c *counting) Changes(ctx context.Context, after int64, limit int) ([]storage.Change, error) {
	if c.failChanges.Load() {
		return nil, errors.New("feed down")
	}
	return c.Storage.Changes(ctx, after, limit)
}

func seed(t *testing.T, s storage.Storage) {
	t.Helper()
	ctx := t.Context()
	if err := s.CreateWorkspace(ctx, storage.Workspace{ID: "ws", Name: "WS", Enabled: true,
		Settings: storage.WorkspaceSettings{AllowedAuthMethods: []string{"client_secret_basic"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx, storage.Client{WorkspaceID: "ws", ID: "app", Name: "App", Enabled: true,
		Scopes: []string{"read"}, Metadata: map[string]string{"k": "v"}, Extra: map[string]any{"nested": map[string]any{"a": []any{"x"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateService(ctx, storage.Service{WorkspaceID: "ws", ID: "api", Identifier: "https://api", Scopes: []storage.Scope{{Name: "read"}}}); err != nil {
		t.Fatal(err)
	}
}

func TestServesFromMemory(t *testing.T) {
	under := &counting{Storage: openSQLite(t)}
	c := New(under, Options{})
	seed(t, c)
	ctx := t.Context()
	for range 3 {
		if _, err := c.GetClient(ctx, "ws", "app"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetWorkspace(ctx, "ws"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListScopes(ctx, "ws"); err != nil {
			t.Fatal(err)
		}
	}
	if under.getClient.Load() != 1 || under.getWorkspace.Load() != 1 || under.listScopes.Load() != 1 {
		t.Fatalf("underlying reads: client %d, workspace %d, scopes %d; want 1 each",
			under.getClient.Load(), under.getWorkspace.Load(), under.listScopes.Load())
	}
}

func TestReturnsCopies(t *testing.T) {
	c := New(openSQLite(t), Options{})
	seed(t, c)
	ctx := t.Context()
	cl, _ := c.GetClient(ctx, "ws", "app")
	cl.Scopes[0] = "admin"
	cl.Metadata["k"] = "changed"
	cl.Extra["nested"].(map[string]any)["a"].([]any)[0] = "changed"
	w, _ := c.GetWorkspace(ctx, "ws")
	w.Settings.AllowedAuthMethods[0] = "none"
	refs, _ := c.ListScopes(ctx, "ws")
	refs[0].Name = "changed"

	cl, _ = c.GetClient(ctx, "ws", "app")
	if cl.Scopes[0] != "read" || cl.Metadata["k"] != "v" || cl.Extra["nested"].(map[string]any)["a"].([]any)[0] != "x" {
		t.Fatalf("caller mutation reached the cache: %+v", cl)
	}
	w, _ = c.GetWorkspace(ctx, "ws")
	if w.Settings.AllowedAuthMethods[0] != "client_secret_basic" {
		t.Fatal("caller mutation reached the cached workspace")
	}
	refs, _ = c.ListScopes(ctx, "ws")
	if refs[0].Name != "read" {
		t.Fatal("caller mutation reached the cached scopes")
	}
}

func TestLocalWriteInvalidates(t *testing.T) {
	c := New(openSQLite(t), Options{})
	seed(t, c)
	ctx := t.Context()
	_, _ = c.GetClient(ctx, "ws", "app")
	_, _ = c.ListScopes(ctx, "ws")
	if _, err := c.UpdateClient(ctx, "ws", "app", func(cl storage.Client) (storage.Client, error) {
		cl.Enabled = false
		return cl, nil
	}); err != nil {
		t.Fatal(err)
	}
	cl, _ := c.GetClient(ctx, "ws", "app")
	if cl.Enabled {
		t.Fatal("disabled client still served enabled from cache")
	}
	if err := c.CreateService(ctx, storage.Service{WorkspaceID: "ws", ID: "api2", Identifier: "https://api2", Scopes: []storage.Scope{{Name: "write"}}}); err != nil {
		t.Fatal(err)
	}
	refs, _ := c.ListScopes(ctx, "ws")
	if len(refs) != 2 {
		t.Fatalf("scopes after CreateService: %+v", refs)
	}
	if err := c.DeleteWorkspace(ctx, "ws"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetClient(ctx, "ws", "app"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("client of deleted workspace: %v", err)
	}
	if _, err := c.GetWorkspace(ctx, "ws"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleted workspace: %v", err)
	}
}

// A write through one cache becomes visible through another cache on the
// same database after that cache polls (reliability invariant 6).
func TestCrossInstanceInvalidation(t *testing.T) {
	s := openSQLite(t)
	a := New(s, Options{})
	b := New(s, Options{PollInterval: 10 * time.Millisecond})
	seed(t, a)
	ctx := t.Context()
	if cl, err := b.GetClient(ctx, "ws", "app"); err != nil || cl.Name != "App" {
		t.Fatalf("b.GetClient = %+v, %v", cl, err)
	}
	if _, err := a.UpdateClient(ctx, "ws", "app", func(cl storage.Client) (storage.Client, error) {
		cl.Name = "Renamed"
		return cl, nil
	}); err != nil {
		t.Fatal(err)
	}
	if cl, _ := b.GetClient(ctx, "ws", "app"); cl.Name != "App" {
		t.Fatalf("b saw the write before polling (not cached?): %q", cl.Name)
	}
	b.Poll(ctx)
	if cl, _ := b.GetClient(ctx, "ws", "app"); cl.Name != "Renamed" {
		t.Fatalf("b after poll: %q, want Renamed", cl.Name)
	}

	// Through Run: a delete becomes ErrNotFound within a few intervals.
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { b.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()
	if err := a.DeleteClient(ctx, "ws", "app"); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		_, err := b.GetClient(ctx, "ws", "app")
		return errors.Is(err, storage.ErrNotFound)
	}, "deleted client still served by b")
	if _, err := a.UpdateWorkspace(ctx, "ws", func(w storage.Workspace) (storage.Workspace, error) {
		w.Enabled = false
		return w, nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		w, err := b.GetWorkspace(ctx, "ws")
		return err == nil && !w.Enabled
	}, "disabled workspace still served enabled by b")
}

func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCallbacks(t *testing.T) {
	s := openSQLite(t)
	a := New(s, Options{})
	b := New(s, Options{})
	var mu sync.Mutex
	var local, remote []storage.Change
	a.OnChange(func(ch storage.Change) { mu.Lock(); local = append(local, ch); mu.Unlock() })
	b.OnChange(func(ch storage.Change) { mu.Lock(); remote = append(remote, ch); mu.Unlock() })
	seed(t, a)
	if _, err := a.UpdateSigningKeys(t.Context(), "ws", func([]storage.SigningKey) ([]storage.SigningKey, error) {
		return []storage.SigningKey{{KID: "k1", Alg: "RS256", State: storage.KeyActive}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	b.Poll(t.Context())
	mu.Lock()
	defer mu.Unlock()
	kinds := func(chs []storage.Change) []string {
		var out []string
		for _, ch := range chs {
			out = append(out, ch.Kind)
		}
		return out
	}
	want := []string{storage.ChangeWorkspace, storage.ChangeClient, storage.ChangeService, storage.ChangeKeys}
	if got := kinds(local); len(got) != 4 || got[3] != storage.ChangeKeys || local[3].ID != 0 {
		t.Fatalf("local callbacks = %+v, want %v with ID 0", local, want)
	}
	got := kinds(remote)
	if len(got) != len(want) {
		t.Fatalf("remote callbacks = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] || remote[i].WorkspaceID != "ws" || remote[i].ID == 0 {
			t.Fatalf("remote callback %d = %+v, want kind %s with an ID", i, remote[i], want[i])
		}
	}
}

// Only positive results are cached: a client created behind the cache's
// back is found at once after a miss.
func TestNegativeResultsNotCached(t *testing.T) {
	s := openSQLite(t)
	c := New(s, Options{})
	seed(t, c)
	ctx := t.Context()
	if _, err := c.GetClient(ctx, "ws", "late"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing client: %v", err)
	}
	if err := s.CreateClient(ctx, storage.Client{WorkspaceID: "ws", ID: "late"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetClient(ctx, "ws", "late"); err != nil {
		t.Fatalf("client created directly: %v", err)
	}
}

// When the changes feed cannot be read, the cache is flushed and bypassed
// until a poll succeeds again.
func TestFeedFailureBypassesCache(t *testing.T) {
	under := &counting{Storage: openSQLite(t)}
	c := New(under, Options{})
	seed(t, c)
	ctx := t.Context()
	_, _ = c.GetClient(ctx, "ws", "app")
	under.failChanges.Store(true)
	c.Poll(ctx)
	_, _ = c.GetClient(ctx, "ws", "app")
	_, _ = c.GetClient(ctx, "ws", "app")
	if n := under.getClient.Load(); n != 3 {
		t.Fatalf("underlying GetClient calls while bypassed = %d, want 3", n)
	}
	under.failChanges.Store(false)
	c.Poll(ctx)
	_, _ = c.GetClient(ctx, "ws", "app")
	_, _ = c.GetClient(ctx, "ws", "app")
	if n := under.getClient.Load(); n != 4 {
		t.Fatalf("underlying GetClient calls after recovery = %d, want 4", n)
	}
}

// A read that raced with an invalidation must not store its stale value.
func TestStaleFillDiscarded(t *testing.T) {
	under := &counting{Storage: openSQLite(t)}
	c := New(under, Options{})
	seed(t, c)
	ctx := t.Context()
	under.pause = make(chan chan struct{})
	got := make(chan storage.Client)
	go func() {
		cl, _ := c.GetClient(ctx, "ws", "app")
		got <- cl
	}()
	gate := <-under.pause // the read has fetched the old value
	under.pause = nil
	if _, err := c.UpdateClient(ctx, "ws", "app", func(cl storage.Client) (storage.Client, error) {
		cl.Name = "New"
		return cl, nil
	}); err != nil {
		t.Fatal(err)
	}
	close(gate)
	if cl := <-got; cl.Name != "App" {
		t.Fatalf("racing read returned %q", cl.Name)
	}
	if cl, _ := c.GetClient(ctx, "ws", "app"); cl.Name != "New" {
		t.Fatalf("stale value was cached: %q", cl.Name)
	}
}

// TestScopeIndexShared: hits share one index (no copy on the hot path),
// and a service change gives a new one with the change in it.
func TestScopeIndexShared(t *testing.T) {
	under := &counting{Storage: openSQLite(t)}
	c := New(under, Options{})
	seed(t, c)
	ctx := t.Context()
	first, err := c.ScopeIndex(ctx, "ws")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := c.ScopeIndex(ctx, "ws")
	if again != first {
		t.Fatal("a cache hit built a new index")
	}
	if err := c.CreateService(ctx, storage.Service{WorkspaceID: "ws", ID: "api2", Identifier: "https://api2", Scopes: []storage.Scope{{Name: "write"}}}); err != nil {
		t.Fatal(err)
	}
	after, _ := c.ScopeIndex(ctx, "ws")
	if after == first || !after.HasService("https://api2") || first.HasService("https://api2") {
		t.Fatal("the index did not follow the service change, or the old one changed")
	}
}
