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
// an uncached client read, the first page of the admin lists, admin
// searches of several breadths and, when the workspace holds seeded
// grants, what stored grants cost (grantRows). It is skipped unless
// LATCHKEY_SCALE_DSN names the database and LATCHKEY_SCALE_WORKSPACES the
// seeded workspaces as name=users:clients[:grants:consents], with the
// numbers given to `latchkey bench seed`, comma-separated, e.g.
//
//	LATCHKEY_SCALE_DSN=sqlite:/data/latchkey.db \
//	LATCHKEY_SCALE_WORKSPACES=g3=1000:1000:1000:1000,scale=1000000:100000:10000000:10000000 \
//	go test -run TestScaleCosts -v ./internal/storage/sqlstore
//
// Each line gives p50 and p99 over LATCHKEY_SCALE_N calls (default 300),
// one at a time. The grant rows end with the query plan of their
// statement (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL): the
// index that keeps the cost flat. The revocation rows write: they revoke
// the families of LATCHKEY_SCALE_N random users, which stay revoked.
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
		sp, err := parseScaleSpec(ws)
		if err != nil {
			t.Fatal(err)
		}
		name, users, clients := sp.name, sp.users, sp.clients
		user := func() int { return rand.IntN(users) }
		client := func() int { return rand.IntN(clients) }
		rows := []scaleRow{
			{"sign-in lookup by username", func() (int, error) {
				_, err := s.GetUserByUsername(ctx, name, fmt.Sprintf("user%07d", user()))
				return 1, err
			}, nil},
			{"sign-in lookup by email", func() (int, error) {
				_, err := s.GetUserByEmail(ctx, name, fmt.Sprintf("USER%07d@scale.example", user()))
				return 1, err
			}, nil},
			{"uncached client read", func() (int, error) {
				_, err := s.GetClient(ctx, name, fmt.Sprintf("scale-client-%06d", client()))
				return 1, err
			}, nil},
			{"list users, first page", listUsers(ctx, s, name, func() string { return "" }), nil},
			{"list clients, first page", listClients(ctx, s, name, func() string { return "" }), nil},
			{"search users, exact username", listUsers(ctx, s, name, func() string { return fmt.Sprintf("USER%07d", user()) }), nil},
			{"search users, email prefix (≤ 100 hits)", listUsers(ctx, s, name, func() string { return fmt.Sprintf("user%05d", user()/100) }), nil},
			{"search users, broad (every user)", listUsers(ctx, s, name, func() string { return "user" }), nil},
			// IDs scale-user-001xxxx..009xxxx: up to 10,000 matches each, none
			// among the first rows in ID order.
			{"search users, ID prefix after the window", listUsers(ctx, s, name, func() string { return fmt.Sprintf("scale-user-00%d", 1+rand.IntN(9)) }), nil},
			{"search users, no match", listUsers(ctx, s, name, func() string { return "nobody" }), nil},
			{"search clients, exact ID", listClients(ctx, s, name, func() string { return fmt.Sprintf("scale-client-%06d", client()) }), nil},
			{"search clients, name prefix", listClients(ctx, s, name, func() string { return fmt.Sprintf("Scale client %d", client()) }), nil},
			{"search clients, broad", listClients(ctx, s, name, func() string { return "scale" }), nil},
			{"search clients, no match", listClients(ctx, s, name, func() string { return "nothing" }), nil},
		}
		if sp.grants > 0 && sp.consents > 0 {
			rows = append(rows, grantRows(t, s, sp, n)...)
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
			t.Logf("| %s | %d users, %d clients, %d grants | %s | %.2f ms | %.2f ms | %.1f |", name, users, clients, sp.grants, r.what,
				ms(d[len(d)/2]), ms(d[len(d)*99/100]), float64(hits)/float64(n))
			if r.plan != nil {
				t.Logf("    plan: %s", explain(t, s, r.plan))
			}
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

// scaleRow is one measured call: what it is, the call (returning its
// hits), and optionally the statement whose plan explains its cost.
type scaleRow struct {
	what string
	call func() (int, error)
	plan *planQuery
}

// planQuery is a statement with example arguments, for explain.
type planQuery struct {
	query string
	args  []any
}

// scaleSpec is one workspace of LATCHKEY_SCALE_WORKSPACES.
type scaleSpec struct {
	name                             string
	users, clients, grants, consents int
}

func parseScaleSpec(ws string) (scaleSpec, error) {
	var sp scaleSpec
	name, nums, ok := strings.Cut(ws, "=")
	parts := strings.Split(nums, ":")
	if !ok || name == "" || (len(parts) != 2 && len(parts) != 4) {
		return sp, fmt.Errorf("workspace spec %q: want name=users:clients[:grants:consents]", ws)
	}
	sp.name = name
	dst := []*int{&sp.users, &sp.clients, &sp.grants, &sp.consents}
	for i, p := range parts {
		if _, err := fmt.Sscan(p, dst[i]); err != nil || *dst[i] < 0 || (i < 2 && *dst[i] == 0) {
			return sp, fmt.Errorf("workspace spec %q: bad number %q", ws, p)
		}
	}
	return sp, nil
}

// Seeded names and pairs, as internal/bench/seed.go writes them (that
// package imports this one, so they are restated here).
func scaleFamilyID(i int) string { return fmt.Sprintf("scale-family-%08d", i) }
func scaleUserID(i int) string   { return fmt.Sprintf("scale-user-%07d", i) }
func scaleClientID(i int) string { return fmt.Sprintf("scale-client-%06d", i) }

// grantRows measure what stored grants cost: the rotation's read of a
// refresh token by hash, a family read, the consent check of an
// authorization request, a user's consent list (the account page and the
// admin API), and the revocation of a user's families, all of them and
// one client's (sign-out everywhere, password reset, consent withdrawal).
func grantRows(t *testing.T, s *Store, sp scaleSpec, n int) []scaleRow {
	ctx := t.Context()
	hashes := refreshHashes(t, s, sp, n)
	family := func() int { return rand.IntN(sp.grants) }
	consent := func() (string, string) {
		i := rand.IntN(sp.consents)
		return scaleUserID(i % sp.users), scaleClientID((i / sp.users) % sp.clients)
	}
	next := 0
	hash := func() []byte { next++; return hashes[next%len(hashes)] }
	return []scaleRow{
		{"refresh token by hash (rotation's read)", func() (int, error) {
			_, _, err := s.GetRefreshToken(ctx, sp.name, hash())
			return 1, err
		}, &planQuery{refreshTokenQuery, []any{sp.name, hashes[0]}}},
		{"token family read", func() (int, error) {
			_, err := s.GetTokenFamily(ctx, sp.name, scaleFamilyID(family()))
			return 1, err
		}, &planQuery{`SELECT ` + familyColumns + ` FROM token_families WHERE workspace_id = ? AND id = ?`, []any{sp.name, scaleFamilyID(0)}}},
		{"consent lookup (user, client)", func() (int, error) {
			u, c := consent()
			_, err := s.GetConsent(ctx, sp.name, u, c)
			return 1, err
		}, &planQuery{`SELECT ` + consentColumns + ` FROM consents WHERE workspace_id = ? AND user_id = ? AND client_id = ?`, []any{sp.name, scaleUserID(0), scaleClientID(0)}}},
		{"list a user's consents", func() (int, error) {
			cs, err := s.ListConsents(ctx, sp.name, scaleUserID(rand.IntN(sp.users)))
			return len(cs), err
		}, &planQuery{`SELECT ` + consentColumns + ` FROM consents WHERE workspace_id = ? AND user_id = ? ORDER BY client_id`, []any{sp.name, scaleUserID(0)}}},
		{"revoke a user's families (all clients)", revokeFamilies(ctx, s, sp, false),
			&planQuery{`UPDATE token_families SET revoked_at = ?, successor_sealed = NULL WHERE workspace_id = ? AND user_id = ? AND revoked_at = 0`, []any{1, sp.name, scaleUserID(0)}}},
		{"revoke a user's families of one client", revokeFamilies(ctx, s, sp, true),
			&planQuery{`UPDATE token_families SET revoked_at = ?, successor_sealed = NULL WHERE workspace_id = ? AND user_id = ? AND revoked_at = 0 AND client_id = ?`, []any{1, sp.name, scaleUserID(0), scaleClientID(0)}}},
	}
}

// refreshHashes reads the refresh token hashes of n random seeded
// families (through refresh_tokens_family), before any timing.
func refreshHashes(t *testing.T, s *Store, sp scaleSpec, n int) [][]byte {
	out := make([][]byte, 0, n)
	for range n {
		var h []byte
		if err := s.reader().queryRow(t.Context(), `SELECT hash FROM refresh_tokens WHERE workspace_id = ? AND family_id = ?`,
			sp.name, scaleFamilyID(rand.IntN(sp.grants))).Scan(&h); err != nil {
			t.Fatalf("%s: a seeded family's refresh token: %v", sp.name, err)
		}
		out = append(out, h)
	}
	return out
}

// revokeFamilies revokes the families of a random user: all of them, or
// (oneClient) those of the client of the user's first family. Its hits
// are the families revoked (0 when an earlier call revoked them).
func revokeFamilies(ctx context.Context, s *Store, sp scaleSpec, oneClient bool) func() (int, error) {
	return func() (int, error) {
		i := rand.IntN(min(sp.grants, sp.users))
		client := ""
		if oneClient {
			client = scaleClientID((i + i/sp.users) % sp.clients)
		}
		n, err := s.RevokeTokenFamilies(ctx, sp.name, scaleUserID(i), client, time.Now())
		return int(n), err
	}
}

// explain returns the plan of q on one line: the index it uses.
func explain(t *testing.T, s *Store, q *planQuery) string {
	prefix := "EXPLAIN QUERY PLAN "
	if s.flavor.name == flavorPostgres.name {
		prefix = "EXPLAIN (COSTS OFF) "
	}
	rows, err := s.reader().query(t.Context(), prefix+q.query, q.args...)
	if err != nil {
		t.Fatalf("explain %q: %v", q.query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.TrimSpace(fmt.Sprint(vals[len(vals)-1])))
	}
	return strings.Join(lines, "; ")
}
