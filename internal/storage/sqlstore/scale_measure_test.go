package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// TestScaleCosts measures, on a database seeded by `latchkey bench seed`
// (docs/benchmarks.md, "Scale"), the latency of the lookups whose cost
// must stay flat as tables grow: sign-in lookup by username and by email,
// an uncached client read, the first page of the admin lists, and admin
// searches of several breadths. It is skipped unless
// LATCHKEY_SCALE_DSN names the database and LATCHKEY_SCALE_WORKSPACES the
// seeded workspaces as name=users:clients, comma-separated, e.g.
//
//	LATCHKEY_SCALE_DSN=sqlite:/data/latchkey.db \
//	LATCHKEY_SCALE_WORKSPACES=g3=1000:1000,scale=1000000:100000 \
//	go test -run TestScaleCosts -v ./internal/storage/sqlstore
//
// Each line gives p50 and p99 over LATCHKEY_SCALE_N calls (default 300),
// one at a time.
func TestScaleCosts(t *testing.T) {
	dsn, spec := os.Getenv("LATCHKEY_SCALE_DSN"), os.Getenv("LATCHKEY_SCALE_WORKSPACES")
	if dsn == "" || spec == "" {
		t.Skip("set LATCHKEY_SCALE_DSN and LATCHKEY_SCALE_WORKSPACES to measure a seeded database")
	}
	n := 300
	if v := os.Getenv("LATCHKEY_SCALE_N"); v != "" {
		fmt.Sscan(v, &n)
	}
	s, err := Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	for _, ws := range strings.Split(spec, ",") {
		var name string
		var users, clients int
		if _, err := fmt.Sscanf(strings.Replace(strings.Replace(ws, "=", " ", 1), ":", " ", 1), "%s %d %d", &name, &users, &clients); err != nil {
			t.Fatalf("workspace spec %q: %v", ws, err)
		}
		user := func() int { return rand.IntN(users) }
		client := func() int { return rand.IntN(clients) }
		rows := []struct {
			what string
			call func() (int, error)
		}{
			{"sign-in lookup by username", func() (int, error) {
				_, err := s.GetUserByUsername(ctx, name, fmt.Sprintf("user%07d", user()))
				return 1, err
			}},
			{"sign-in lookup by email", func() (int, error) {
				_, err := s.GetUserByEmail(ctx, name, fmt.Sprintf("USER%07d@scale.example", user()))
				return 1, err
			}},
			{"uncached client read", func() (int, error) {
				_, err := s.GetClient(ctx, name, fmt.Sprintf("scale-client-%06d", client()))
				return 1, err
			}},
			{"list users, first page", listUsers(ctx, s, name, func() string { return "" })},
			{"list clients, first page", listClients(ctx, s, name, func() string { return "" })},
			{"search users, exact username", listUsers(ctx, s, name, func() string { return fmt.Sprintf("USER%07d", user()) })},
			{"search users, email prefix (≤ 100 hits)", listUsers(ctx, s, name, func() string { return fmt.Sprintf("user%05d", user()/100) })},
			{"search users, broad (every user)", listUsers(ctx, s, name, func() string { return "user" })},
			// IDs scale-user-001xxxx..009xxxx: up to 10,000 matches each, none
			// among the first rows in ID order.
			{"search users, ID prefix after the window", listUsers(ctx, s, name, func() string { return fmt.Sprintf("scale-user-00%d", 1+rand.IntN(9)) })},
			{"search users, no match", listUsers(ctx, s, name, func() string { return "nobody" })},
			{"search clients, exact ID", listClients(ctx, s, name, func() string { return fmt.Sprintf("scale-client-%06d", client()) })},
			{"search clients, name prefix", listClients(ctx, s, name, func() string { return fmt.Sprintf("Scale client %d", client()) })},
			{"search clients, broad", listClients(ctx, s, name, func() string { return "scale" })},
			{"search clients, no match", listClients(ctx, s, name, func() string { return "nothing" })},
		}
		for _, r := range rows {
			var d []time.Duration
			hits := 0
			for range n {
				start := time.Now()
				h, err := r.call()
				d = append(d, time.Since(start))
				if err != nil {
					t.Fatalf("%s %s: %v", name, r.what, err)
				}
				hits += h
			}
			slices.Sort(d)
			t.Logf("| %s | %d users, %d clients | %s | %.2f ms | %.2f ms | %.1f |", name, users, clients, r.what,
				ms(d[len(d)/2]), ms(d[len(d)*99/100]), float64(hits)/float64(n))
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func listUsers(ctx context.Context, s *Store, ws string, q func() string) func() (int, error) {
	return func() (int, error) {
		p, err := s.ListUsers(ctx, ws, storage.ListOptions{Query: q()})
		return len(p.Items), err
	}
}

func listClients(ctx context.Context, s *Store, ws string, q func() string) func() (int, error) {
	return func() (int, error) {
		p, err := s.ListClients(ctx, ws, storage.ListOptions{Query: q()})
		return len(p.Items), err
	}
}
