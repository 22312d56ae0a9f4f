package sqlstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// TestSeedBulkRoundTrip writes through the Bulk* methods more rows than
// one multi-row statement carries (full statements plus a shorter last
// one) and reads every kind back through the ordinary methods: the bulk
// rows are what the Create methods write, clients and users with their
// change records.
func TestSeedBulkRoundTrip(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testSeedBulkRoundTrip(t, newSQLite(t).(*Store)) })
	if os.Getenv("LATCHKEY_TEST_POSTGRES_DSN") != "" {
		t.Run("postgres", func(t *testing.T) { testSeedBulkRoundTrip(t, newPostgres(t).(*Store)) })
	}
}

func testSeedBulkRoundTrip(t *testing.T, s *Store) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := s.CreateWorkspace(ctx, storage.Workspace{ID: "bulk", Name: "Bulk", Enabled: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	// 1,234 rows of each kind: two full statements of 500 rows
	// (bulkRowsPerStatement) and a last one of 234.
	const n = 1234
	changesBefore := countChanges(t, s)
	clients := make([]storage.Client, n)
	users := make([]storage.User, n)
	for i := range n {
		clients[i] = storage.Client{WorkspaceID: "bulk", ID: scaleClientID(i), Name: fmt.Sprintf("c%d", i), Enabled: true, CreatedAt: now, UpdatedAt: now}
		users[i] = storage.User{WorkspaceID: "bulk", ID: scaleUserID(i), Username: fmt.Sprintf("u%d", i), Email: fmt.Sprintf("U%d@Example.org", i),
			Active: true, CreatedAt: now, UpdatedAt: now}
	}
	if err := s.BulkCreateClients(ctx, clients); err != nil {
		t.Fatal(err)
	}
	if err := s.BulkCreateUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	if got := countChanges(t, s) - changesBefore; got != 2*n {
		t.Fatalf("%d change records for %d clients and users, want one each", got, 2*n)
	}
	grants := make([]BulkGrant, n)
	consents := make([]storage.Consent, n)
	for i := range n {
		grants[i] = BulkGrant{RefreshHash: []byte(fmt.Sprintf("hash-%04d-%026d", i, i)), Family: storage.TokenFamily{
			WorkspaceID: "bulk", ID: scaleFamilyID(i), ClientID: scaleClientID(n - 1 - i), UserID: scaleUserID(i),
			Scopes: []string{"openid"}, Refresh: true, Generation: 1, CreatedAt: now, RotatedAt: now, LastUsedAt: now,
			AuthTime: now, ExpiresAt: now.Add(time.Hour),
		}}
		consents[i] = storage.Consent{WorkspaceID: "bulk", UserID: scaleUserID(i), ClientID: scaleClientID(i % 7), Scopes: []string{"openid", "email"},
			CreatedAt: now, UpdatedAt: now}
	}
	if err := s.BulkCreateGrants(ctx, grants); err != nil {
		t.Fatal(err)
	}
	if err := s.BulkPutConsents(ctx, consents); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 499, 500, 999, 1000, n - 1} {
		checkSeededRow(t, s, i, grants[i], consents[i], users[i].Email)
	}
	// A repeated consent replaces the stored one (PutConsent's contract).
	consents[3].Scopes = []string{"profile"}
	if err := s.BulkPutConsents(ctx, consents[3:4]); err != nil {
		t.Fatal(err)
	}
	if c, err := s.GetConsent(ctx, "bulk", consents[3].UserID, consents[3].ClientID); err != nil || len(c.Scopes) != 1 || c.Scopes[0] != "profile" {
		t.Fatalf("replaced consent: %+v, %v", c, err)
	}
	// A grant whose user does not exist fails the whole call.
	bad := grants[:2:2]
	bad = append(bad, BulkGrant{Family: storage.TokenFamily{WorkspaceID: "bulk", ID: "other", ClientID: scaleClientID(0), UserID: "nobody"}})
	bad[0].Family.ID, bad[1].Family.ID = "fresh-0", "fresh-1"
	bad[0].RefreshHash, bad[1].RefreshHash = []byte("fresh-hash-0"), []byte("fresh-hash-1")
	if err := s.BulkCreateGrants(ctx, bad); err == nil {
		t.Fatal("a grant of an unknown user was written")
	}
	if _, err := s.GetTokenFamily(ctx, "bulk", "fresh-0"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a failed bulk call left a family behind: %v", err)
	}
}

func checkSeededRow(t *testing.T, s *Store, i int, g BulkGrant, c storage.Consent, email string) {
	t.Helper()
	ctx := t.Context()
	cl, err := s.GetClient(ctx, "bulk", scaleClientID(i))
	if err != nil || cl.Name != fmt.Sprintf("c%d", i) {
		t.Fatalf("client %d: %+v, %v", i, cl, err)
	}
	u, err := s.GetUserByEmail(ctx, "bulk", email)
	if err != nil || u.ID != scaleUserID(i) {
		t.Fatalf("user %d by email: %+v, %v", i, u, err)
	}
	f, gen, err := s.GetRefreshToken(ctx, "bulk", g.RefreshHash)
	if err != nil || f.ID != g.Family.ID || gen != 1 || f.ClientID != g.Family.ClientID || !f.Refresh || len(f.Scopes) != 1 {
		t.Fatalf("refresh token %d: %+v gen %d, %v", i, f, gen, err)
	}
	if !f.ExpiresAt.Equal(g.Family.ExpiresAt) {
		t.Fatalf("family %d expires %v, want %v", i, f.ExpiresAt, g.Family.ExpiresAt)
	}
	got, err := s.GetConsent(ctx, "bulk", c.UserID, c.ClientID)
	if err != nil || len(got.Scopes) != 2 || got.Scopes[1] != "email" {
		t.Fatalf("consent %d: %+v, %v", i, got, err)
	}
}

func countChanges(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.reader().queryRow(t.Context(), `SELECT COUNT(*) FROM changes`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSeedBulkLoadMode checks `bench seed --bulk-load` on SQLite: during
// the load the store's one connection runs with synchronous=OFF; after
// finish it is back to FULL and the write-ahead log has been copied into
// the database file and emptied.
func TestSeedBulkLoadMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latchkey.db")
	s, err := Open(t.Context(), "sqlite:"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	finish, err := s.BeginBulkLoad(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := pragmaInt(t, s, "synchronous"); got != 0 {
		t.Fatalf("synchronous during the load = %d, want 0 (OFF)", got)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := s.CreateWorkspace(ctx, storage.Workspace{ID: "bulk", Name: "Bulk", Enabled: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	users := make([]storage.User, 600)
	for i := range users {
		users[i] = storage.User{WorkspaceID: "bulk", ID: scaleUserID(i), Username: fmt.Sprintf("u%d", i), Active: true, CreatedAt: now, UpdatedAt: now}
	}
	if err := s.BulkCreateUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	if err := finish(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pragmaInt(t, s, "synchronous"); got != 2 {
		t.Fatalf("synchronous after the load = %d, want 2 (FULL)", got)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Fatalf("write-ahead log holds %d bytes after finish, want it checkpointed", fi.Size())
	}
	raw, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(raw, []byte(scaleUserID(599))) {
		t.Fatalf("the database file lacks the last loaded user (err %v)", err)
	}
}

func pragmaInt(t *testing.T, s *Store, name string) int {
	t.Helper()
	var v int
	if err := s.db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// processCPU is this process's user and system CPU time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSeedBulkGrants compares, per token family with its refresh
// token, BulkCreateGrants (multi-row statements) with one statement per
// row in the same transaction (what it did before), on SQLite, in
// transactions of 10,000 grants over 1,000 users and clients:
//
//	go test -run '^$' -bench SeedBulkGrants -benchmem -count 3 ./internal/storage/sqlstore/
func BenchmarkSeedBulkGrants(b *testing.B) {
	for _, mode := range []string{"multi-row", "row-by-row"} {
		b.Run(mode, func(b *testing.B) {
			s, err := Open(b.Context(), "sqlite:"+filepath.Join(b.TempDir(), "latchkey.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			seedBenchParents(b, s)
			const batch = 10_000
			next := 0
			cpu := processCPU(b)
			b.ResetTimer()
			for b.Loop() {
				grants := benchGrants(next, batch)
				next += batch
				if mode == "multi-row" {
					err = s.BulkCreateGrants(b.Context(), grants)
				} else {
					err = s.inTx(b.Context(), "row by row", func(tx conn) error {
						for _, g := range grants {
							if err := insertGrant(b.Context(), tx, g.Family, g.RefreshHash, g.Family.CreatedAt); err != nil {
								return err
							}
						}
						return nil
					})
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(next), "ns/grant")
			// CPU time: on a shared machine the elapsed time measures the
			// other processes as much as this one.
			b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(next), "cpu-ns/grant")
		})
	}
}

func seedBenchParents(b *testing.B, s *Store) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := s.CreateWorkspace(b.Context(), storage.Workspace{ID: "bulk", Name: "Bulk", Enabled: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		b.Fatal(err)
	}
	clients := make([]storage.Client, 1000)
	users := make([]storage.User, 1000)
	for i := range 1000 {
		clients[i] = storage.Client{WorkspaceID: "bulk", ID: scaleClientID(i), Name: "c", Enabled: true, CreatedAt: now, UpdatedAt: now}
		users[i] = storage.User{WorkspaceID: "bulk", ID: scaleUserID(i), Username: fmt.Sprintf("u%d", i), Active: true, CreatedAt: now, UpdatedAt: now}
	}
	if err := s.BulkCreateClients(b.Context(), clients); err != nil {
		b.Fatal(err)
	}
	if err := s.BulkCreateUsers(b.Context(), users); err != nil {
		b.Fatal(err)
	}
}

// benchGrants are grants from..from+n-1 with increasing hashes, as
// `bench seed` writes them.
func benchGrants(from, n int) []BulkGrant {
	now := time.Now().UTC().Truncate(time.Millisecond)
	out := make([]BulkGrant, n)
	for k := range n {
		i := from + k
		out[k] = BulkGrant{RefreshHash: []byte(fmt.Sprintf("%032d", i)), Family: storage.TokenFamily{
			WorkspaceID: "bulk", ID: scaleFamilyID(i), ClientID: scaleClientID(i % 1000), UserID: scaleUserID(i % 1000),
			Scopes: []string{"openid", "offline_access"}, Refresh: true, Generation: 1, CreatedAt: now, RotatedAt: now,
			LastUsedAt: now, AuthTime: now, ExpiresAt: now.Add(time.Hour),
		}}
	}
	return out
}
