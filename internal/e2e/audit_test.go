package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestAuditAndOutboxEndToEnd reads the audit log a running server wrote
// (SQLite and PostgreSQL): filtered and paged through the API, exported
// as JSON lines by the CLI; then reads a set-password link from the
// outbox of a server without a mail server, through API and CLI.
func TestAuditAndOutboxEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, lk *instance) {
		since := time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
		for _, id := range []string{"p1", "p2", "p3", "p4", "p5"} {
			lk.adminOK(t, http.MethodPost, "/workspaces/default/profiles", map[string]any{"id": id, "name": "Profile " + id}, http.StatusCreated, nil)
		}
		lk.adminOK(t, http.MethodPatch, "/workspaces/default/profiles/p2", map[string]any{"description": "changed"}, http.StatusOK, nil)

		// Paged through the API: 5 creations in pages of 2, newest first.
		var ids []string
		q := url.Values{"since": {since}, "action": {"profile.create"}, "limit": {"2"}}
		for pages := 0; ; pages++ {
			var page struct {
				Items []struct {
					TargetID  string `json:"target_id"`
					ActorName string `json:"actor_name"`
				} `json:"items"`
				Next string `json:"next_page_token"`
			}
			lk.adminOK(t, http.MethodGet, "/workspaces/default/audit?"+q.Encode(), nil, http.StatusOK, &page)
			for _, e := range page.Items {
				ids = append(ids, e.TargetID)
				if e.ActorName != "LATCHKEY_ADMIN_TOKEN" {
					t.Fatalf("actor %q", e.ActorName)
				}
			}
			if page.Next == "" || pages > 5 {
				break
			}
			q.Set("page_token", page.Next)
		}
		if strings.Join(ids, ",") != "p5,p4,p3,p2,p1" {
			t.Fatalf("paged audit: %v", ids)
		}
		q.Set("action", "profile.update")
		r := lk.adminDo(t, http.MethodGet, "/workspaces/default/audit?"+q.Encode(), nil)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), "page_token") {
			t.Fatalf("token with other filters: %d %s", r.status, r.raw)
		}

		// Exported by the CLI: one JSON object a line, every page.
		out := lk.mustCLI(t, "audit", "export", "--since", since, "--actor", "LATCHKEY_ADMIN_TOKEN")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 6 {
			t.Fatalf("export: %d lines:\n%s", len(lines), out)
		}
		for _, l := range lines {
			var e map[string]any
			if err := json.Unmarshal([]byte(l), &e); err != nil || e["workspace_id"] != "default" {
				t.Fatalf("export line %q: %v", l, err)
			}
		}

		// No mail server: the set-password link waits in the outbox.
		lk.adminOK(t, http.MethodPost, "/workspaces/default/users", map[string]any{"id": "u1", "username": "alice",
			"email": "alice@example.com", "active": true}, http.StatusCreated, nil)
		lk.mustCLI(t, "users", "expire-password", "u1", "--send-link")
		var outbox struct {
			Items []struct {
				ID   string `json:"id"`
				To   string `json:"to"`
				Body string `json:"body"`
			} `json:"items"`
		}
		lk.adminOK(t, http.MethodGet, "/outbox", nil, http.StatusOK, &outbox)
		if len(outbox.Items) != 1 || outbox.Items[0].To != "alice@example.com" {
			t.Fatalf("outbox: %+v", outbox)
		}
		link := regexp.MustCompile(`/w/default/password/set\?token=lkpw_[A-Za-z0-9_-]+`)
		if shown := lk.mustCLI(t, "outbox", "show", outbox.Items[0].ID); !link.MatchString(shown) {
			t.Fatalf("outbox show:\n%s", shown)
		}
		lk.leaks.Add(link.FindString(outbox.Items[0].Body))
	})
}
