package conformance

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
)

// The search of clients and users (storage.ListOptions.Query) matches a
// prefix of the ID, name, username or email, ignoring the case of A–Z
// (emails of every letter). A store may answer a query in steps over
// windows of rows (sqlstore reads a window in ID order, then the
// indexes); these tests use enough rows and small pages that broad and
// narrow queries cross such windows, and check every page against the
// rule applied to all rows.

// asciiFold folds A–Z only, as the search does for IDs, names and usernames.
func asciiFold(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// searchAll pages through list with limit and returns the IDs in order,
// failing on a page that repeats or goes backwards.
func searchAll(t *testing.T, query string, limit int, list func(storage.ListOptions) ([]string, string, error)) []string {
	t.Helper()
	var ids []string
	after := ""
	for range 1000 {
		page, next, err := list(storage.ListOptions{Query: query, Limit: limit, After: after})
		must(t, err)
		if len(page) > limit {
			t.Fatalf("query %q limit %d: page of %d", query, limit, len(page))
		}
		for _, id := range page {
			if len(ids) > 0 && id <= ids[len(ids)-1] {
				t.Fatalf("query %q limit %d: %q after %q (not in ID order)", query, limit, id, ids[len(ids)-1])
			}
			ids = append(ids, id)
		}
		if next == "" {
			return ids
		}
		if len(page) != limit || next != page[len(page)-1] {
			t.Fatalf("query %q limit %d: Next %q after a page of %d", query, limit, next, len(page))
		}
		after = next
	}
	t.Fatalf("query %q: paging does not end", query)
	return nil
}

func testSearchClientsAcrossWindow(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	createWorkspace(t, s, "other")
	names := map[string]string{}
	for i := range 300 {
		id, name := fmt.Sprintf("c%03d", i), fmt.Sprintf("Service %d", i)
		if i%100 == 5 {
			name = fmt.Sprintf("Payroll %d", i)
		}
		c := newClient("ws", id)
		c.Name = name
		must(t, s.CreateClient(ctx, c))
		names[id] = name
	}
	// Another workspace's match is never found (O1).
	foreign := newClient("other", "c999")
	foreign.Name = "Payroll elsewhere"
	must(t, s.CreateClient(ctx, foreign))
	list := func(o storage.ListOptions) ([]string, string, error) {
		p, err := s.ListClients(ctx, "ws", o)
		var ids []string
		for _, c := range p.Items {
			ids = append(ids, c.ID)
		}
		return ids, p.Next, err
	}
	for _, q := range []string{"payroll", "PAYROLL 2", "SERVICE", "service 29", "C29", "c2", "c", "c105", "Payroll 105 ", "zzz", "ervice"} {
		var want []string
		for id, name := range names {
			if strings.HasPrefix(asciiFold(id), asciiFold(q)) || strings.HasPrefix(asciiFold(name), asciiFold(q)) {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		for _, limit := range []int{1, 2, 7, 50} {
			if got := searchAll(t, q, limit, list); !slices.Equal(got, want) {
				t.Fatalf("clients query %q limit %d = %v, want %v", q, limit, got, want)
			}
		}
	}
}

func testSearchUsersAcrossWindow(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws1")
	type row struct{ id, username, email string }
	var rows []row
	for i := range 450 {
		r := row{fmt.Sprintf("u%03d", i), fmt.Sprintf("other-%d", i), fmt.Sprintf("x%d@example.org", i)}
		if i%150 == 7 {
			r.username = fmt.Sprintf("Match-%d", i)
		}
		if i%100 == 3 {
			r.email = fmt.Sprintf("MATCH%d@Example.com", i)
		}
		if i == 404 {
			r.email = "Émile@Example.com" // stored lower-cased: every letter folds
		}
		u := newUser("ws1", r.id, r.username, r.email)
		u.ExternalID = ""
		must(t, s.CreateUser(ctx, u))
		rows = append(rows, r)
	}
	list := func(o storage.ListOptions) ([]string, string, error) {
		p, err := s.ListUsers(ctx, "ws1", o)
		var ids []string
		for _, u := range p.Items {
			ids = append(ids, u.ID)
		}
		return ids, p.Next, err
	}
	queries := []string{"match", "MATCH1", "Match-157", "other", "OTHER-44", "u44", "U4", "x1@", "x1@example.org",
		"match303@example.com", "éMILE", "ÉMILE@", "émile@example.com", "example", "%", "_", "nobody"}
	for _, q := range queries {
		var want []string
		for _, r := range rows {
			if strings.HasPrefix(asciiFold(r.id), asciiFold(q)) || strings.HasPrefix(asciiFold(r.username), asciiFold(q)) ||
				strings.HasPrefix(strings.ToLower(r.email), strings.ToLower(q)) {
				want = append(want, r.id)
			}
		}
		for _, limit := range []int{1, 3, 50} {
			if got := searchAll(t, q, limit, list); !slices.Equal(got, want) {
				t.Fatalf("users query %q limit %d = %v, want %v", q, limit, got, want)
			}
		}
	}
}
