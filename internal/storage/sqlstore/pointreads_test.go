package sqlstore

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// The point reads a request makes when its row is not cached run as
// prepared statements on SQLite (cachedRow), on a file store and on the
// in-memory store's single connection alike, and still answer
// ErrNotFound for a row that does not exist.
func TestPointReadsArePrepared(t *testing.T) {
	for name, open := range map[string]func(*testing.T) *Store{"file": openSQLiteStore, "memory": openSQLiteMemoryStore} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := t.Context()
			now := time.Now().UTC()
			if err := s.CreateClient(ctx, storage.Client{WorkspaceID: "ws", ID: "c1", Name: "c1", Enabled: true, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateUser(ctx, storage.User{WorkspaceID: "ws", ID: "u1", Username: "alice", Email: "alice@example.com", Active: true, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			if err := s.PutConsent(ctx, storage.Consent{WorkspaceID: "ws", UserID: "u1", ClientID: "c1", Scopes: []string{"openid"}, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			reads := []struct {
				name string
				read func() error
			}{
				{"client", func() error { _, err := s.GetClient(ctx, "ws", "c1"); return err }},
				{"user", func() error { _, err := s.GetUser(ctx, "ws", "u1"); return err }},
				{"user by username", func() error { _, err := s.GetUserByUsername(ctx, "ws", "alice"); return err }},
				{"user by email", func() error { _, err := s.GetUserByEmail(ctx, "ws", "alice@example.com"); return err }},
				{"consent", func() error { _, err := s.GetConsent(ctx, "ws", "u1", "c1"); return err }},
			}
			for _, r := range reads {
				before := len(s.preparedQueries())
				for range 3 { // prepared once, then reused
					if err := r.read(); err != nil {
						t.Fatalf("%s: %v", r.name, err)
					}
				}
				if got := len(s.preparedQueries()); got != before+1 {
					t.Errorf("%s: %d prepared statements after the reads, want %d", r.name, got, before+1)
				}
			}
			if _, err := s.GetClient(ctx, "ws", "missing"); err != storage.ErrNotFound {
				t.Errorf("missing client: %v, want ErrNotFound", err)
			}
			if _, err := s.GetUserByUsername(ctx, "ws", "bob"); err != storage.ErrNotFound {
				t.Errorf("missing user: %v, want ErrNotFound", err)
			}
		})
	}
}

// preparedQueries lists the queries of the statement cache that hold a
// prepared statement.
func (s *Store) preparedQueries() []string {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	var out []string
	for q, l := range s.stmts.m {
		if l.stmt != nil {
			out = append(out, q)
		}
	}
	return out
}

// BenchmarkUncachedClientRead reads clients at random from 20,000 (more
// than the connections' page caches hold) through the prepared statement
// GetClient uses and through the same query parsed on every call (the read
// before it was prepared), in alternating batches so that other load on
// the machine weighs on both alike: "cpu-ns/op" per variant is the
// process's CPU time per read (docs/benchmarks.md, "The uncached client
// read").
func BenchmarkUncachedClientRead(b *testing.B) {
	s, err := Open(b.Context(), "sqlite:"+b.TempDir()+"/latchkey.db", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	if err := s.CreateWorkspace(ctx, storage.Workspace{ID: "ws", Name: "ws", Enabled: true}); err != nil {
		b.Fatal(err)
	}
	const n = 20_000
	now := time.Now().UTC()
	clients := make([]storage.Client, n)
	for i := range clients {
		id := fmt.Sprintf("client-%06d", i)
		clients[i] = storage.Client{WorkspaceID: "ws", ID: id, Name: id, Enabled: true, Scopes: []string{"orders:read"},
			GrantTypes: []string{"client_credentials"}, Metadata: map[string]string{"tenant": "acme"}, CreatedAt: now, UpdatedAt: now}
	}
	if err := s.BulkCreateClients(ctx, clients); err != nil {
		b.Fatal(err)
	}
	variants := []struct {
		name string
		read func(id string) error
	}{
		{"prepared", func(id string) error { _, err := s.GetClient(ctx, "ws", id); return err }},
		{"parsed", func(id string) error { _, err := getClient(ctx, s.reader(), "ws", id, ""); return err }},
	}
	const batch = 200
	cpu := make([]time.Duration, len(variants))
	b.ResetTimer()
	for b.Loop() {
		for i, v := range variants {
			start := processCPU(b)
			for range batch {
				if err := v.read(clients[rand.IntN(n)].ID); err != nil {
					b.Fatal(err)
				}
			}
			cpu[i] += processCPU(b) - start
		}
	}
	for i, v := range variants {
		b.ReportMetric(float64(cpu[i].Nanoseconds())/float64(b.N*batch), v.name+"-cpu-ns/op")
	}
}
