package adminapi_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// seedAudit appends n events to workspace default, one a minute from
// base: even ones by alice updating client c1, odd ones by bob creating
// client c2; plus one event of workspace other and one server-wide.
func (a *api) seedAudit(base time.Time, n int) {
	a.t.Helper()
	ctx := context.Background()
	for i := range n {
		e := storage.AuditEvent{Time: base.Add(time.Duration(i) * time.Minute), ActorKind: storage.ActorConsole,
			ActorID: "id-alice", ActorName: "alice", WorkspaceID: "default", Action: "client.update", TargetType: "client", TargetID: "c1",
			Details: json.RawMessage(`{"fields":["name"]}`)}
		if i%2 == 1 {
			e.ActorID, e.ActorName, e.Action, e.TargetID = "id-bob", "bob", "client.create", "c2"
		}
		if err := a.env.Store.AppendAuditEvent(ctx, e); err != nil {
			a.t.Fatal(err)
		}
	}
	for _, ws := range []string{"other", ""} {
		if err := a.env.Store.AppendAuditEvent(ctx, storage.AuditEvent{Time: base, ActorKind: storage.ActorConsole,
			ActorID: "id-alice", ActorName: "alice", WorkspaceID: ws, Action: "client.update", TargetType: "client", TargetID: "c1"}); err != nil {
			a.t.Fatal(err)
		}
	}
}

func auditItems(t *testing.T, r resp) []map[string]any {
	t.Helper()
	list, _ := r.body["items"].([]any)
	out := make([]map[string]any, len(list))
	for i, it := range list {
		out[i] = it.(map[string]any)
	}
	return out
}

var auditBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestAuditListFilters(t *testing.T) {
	a := newAPI(t)
	a.seedAudit(auditBase, 10)
	min := func(m int) string {
		return url.QueryEscape(auditBase.Add(time.Duration(m) * time.Minute).Format(time.RFC3339))
	}
	cases := []struct {
		query string
		want  int
	}{
		{"", 11}, // and the workspace.create of the server's first start
		{"actor=alice", 5},
		{"actor=id-bob", 5},
		{"action=client.create", 5},
		{"client=c1", 5},
		{"since=" + min(7), 4},
		{"until=" + min(2), 2},
		{"since=" + min(2) + "&until=" + min(6), 4},
		{"since=" + min(2) + "&until=" + min(6) + "&actor=bob&action=client.create&client=c2", 2},
		{"actor=nobody", 0},
	}
	for _, c := range cases {
		r := a.want(a.do("GET", ws+"/audit?"+c.query, nil), 200)
		items := auditItems(t, r)
		if len(items) != c.want {
			t.Errorf("%q: %d events, want %d: %s", c.query, len(items), c.want, r.raw)
		}
		for _, it := range items {
			if it["workspace_id"] != "default" {
				t.Errorf("%q: event of workspace %v", c.query, it["workspace_id"])
			}
		}
	}
	r := a.want(a.do("GET", ws+"/audit?limit=1", nil), 200)
	e := auditItems(t, r)[0]
	if e["action"] != "client.create" || e["actor_name"] != "bob" || e["time"] != auditBase.Add(9*time.Minute).Format(time.RFC3339) ||
		e["details"].(map[string]any)["fields"] == nil || e["actor_kind"] != "console" {
		t.Fatalf("newest event = %s", r.raw)
	}
	// The server-wide log holds every workspace's events and server-wide
	// ones.
	r = a.want(a.do("GET", "/admin/v1/audit?actor=alice&action=client.update", nil), 200)
	if n := len(auditItems(t, r)); n != 7 {
		t.Fatalf("server audit: %d events, want 7: %s", n, r.raw)
	}
}

func TestAuditPagination(t *testing.T) {
	a := newAPI(t)
	a.seedAudit(auditBase, 9)
	seen := map[float64]bool{}
	var last float64
	query := "actor=alice&limit=2"
	pages := 0
	for tok := ""; ; pages++ {
		q := query
		if tok != "" {
			q += "&page_token=" + url.QueryEscape(tok)
		}
		r := a.want(a.do("GET", ws+"/audit?"+q, nil), 200)
		for _, it := range auditItems(t, r) {
			id := it["id"].(float64)
			if seen[id] || (last != 0 && id >= last) {
				t.Fatalf("page order broken at %v: %s", id, r.raw)
			}
			seen[id], last = true, id
		}
		tok, _ = r.body["next_page_token"].(string)
		if tok == "" {
			break
		}
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if len(seen) != 5 || pages != 2 {
		t.Fatalf("saw %d events in %d pages, want 5 in 3", len(seen), pages+1)
	}

	// A token works only with the filters and listing it was issued for.
	r := a.want(a.do("GET", ws+"/audit?"+query, nil), 200)
	tok := url.QueryEscape(r.body["next_page_token"].(string))
	a.want(a.do("GET", ws+"/audit?actor=alice&limit=5&page_token="+tok, nil), 200) // the page size may change
	for _, q := range []string{
		"actor=bob&page_token=" + tok,
		"page_token=" + tok,
		"actor=alice&page_token=" + tok[:len(tok)-2] + "AA",
	} {
		r := a.want(a.do("GET", ws+"/audit?"+q, nil), 400)
		if r.body["error"] != "invalid_request" || !strings.Contains(r.body["error_description"].(string), "page_token") {
			t.Errorf("%q: %s", q, r.raw)
		}
	}
	a.want(a.do("GET", "/admin/v1/audit?actor=alice&page_token="+tok, nil), 400)
}

func TestAuditListErrors(t *testing.T) {
	a := newAPI(t)
	cases := []struct{ query, names string }{
		{"since=yesterday", "since"},
		{"until=2026-13-01T00:00:00Z", "until"},
		{"since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z", "until"},
		{"since=2026-03-01T00:00:00Z&until=2026-03-01T00:00:00Z", "until"},
		{"limit=0", "limit"},
		{"limit=501", "limit"},
		{"limit=ten", "limit"},
		{"actor=a&actor=b", "actor"},
		{"action=" + strings.Repeat("x", 201), "action"},
		{"page_token=not-a-token", "page_token"},
		{"page_token=" + strings.Repeat("A", 2000), "page_token"},
	}
	for _, c := range cases {
		r := a.do("GET", ws+"/audit?"+c.query, nil)
		if r.status != 400 || r.body["error"] != "invalid_request" {
			t.Errorf("%q: %d %s", c.query, r.status, r.raw)
			continue
		}
		if !strings.Contains(r.body["error_description"].(string), c.names) {
			t.Errorf("%q: description does not name %q: %s", c.query, c.names, r.raw)
		}
	}
	a.want(a.doAuth("GET", ws+"/audit", nil, ""), 401)
}

// A workspace token reads its own workspace's audit log only; the
// server-wide log and the outbox need super_admin (docs/security.md O5).
func TestAuditAndOutboxRoles(t *testing.T) {
	a := newAPI(t)
	a.seedAudit(auditBase, 2)
	_, viewer := a.createAdminToken(map[string]any{"name": "v", "role": "workspace_viewer", "workspaces": []string{"default"}})
	a.want(a.doAuth("GET", ws+"/audit", nil, "Bearer "+viewer), 200)
	a.want(a.doAuth("GET", "/admin/v1/workspaces/other/audit", nil, "Bearer "+viewer), 404)
	a.want(a.doAuth("GET", "/admin/v1/audit", nil, "Bearer "+viewer), 403)
	a.want(a.doAuth("GET", "/admin/v1/outbox", nil, "Bearer "+viewer), 403)
	a.want(a.doAuth("GET", "/admin/v1/outbox/m1", nil, "Bearer "+viewer), 403)
}

func TestOutbox(t *testing.T) {
	a := newAPI(t)
	ctx := context.Background()
	for i, m := range []storage.Mail{
		{ID: "m1", To: "ops@example.com", Subject: "Your code", Body: "Code: 123456", CreatedAt: auditBase},
		{ID: "m2", To: "alice@example.com", Subject: "Choose a password", Body: "Open https://lk.test/p", CreatedAt: auditBase.Add(time.Minute)},
	} {
		if err := a.env.Store.EnqueueMail(ctx, m); err != nil {
			t.Fatal(i, err)
		}
	}
	if err := a.env.Store.MarkMail(ctx, "m1", time.Time{}, "no mail server configured"); err != nil {
		t.Fatal(err)
	}
	r := a.want(a.do("GET", "/admin/v1/outbox", nil), 200)
	items := auditItems(t, r)
	if len(items) != 2 || items[0]["id"] != "m2" || items[1]["body"] != "Code: 123456" ||
		items[1]["error"] != "no mail server configured" || items[1]["sent_at"] != nil {
		t.Fatalf("outbox = %s", r.raw)
	}
	if n := len(auditItems(t, a.want(a.do("GET", "/admin/v1/outbox?limit=1", nil), 200))); n != 1 {
		t.Fatalf("limit=1 gave %d", n)
	}
	r = a.want(a.do("GET", "/admin/v1/outbox/m2", nil), 200)
	if r.body["to"] != "alice@example.com" || r.body["subject"] != "Choose a password" {
		t.Fatalf("message = %s", r.raw)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("outbox message is cacheable: %v", r.header)
	}
	r = a.want(a.do("GET", "/admin/v1/outbox/nope", nil), 404)
	if r.body["error"] != "not_found" {
		t.Fatalf("missing message: %s", r.raw)
	}
	for _, q := range []string{"limit=0", "limit=x", "limit=501", "limit=1&limit=2"} {
		r := a.want(a.do("GET", "/admin/v1/outbox?"+q, nil), 400)
		if !strings.Contains(r.body["error_description"].(string), "limit") {
			t.Errorf("%q: %s", q, r.raw)
		}
	}
}
