package conformance

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// testAuditQuery checks the audit filters the admin API and CLI offer
// (time range, actor, action, target) alone and combined, and that paging
// with any filter visits every matching event once, newest first.
func testAuditQuery(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	add := func(d time.Duration, ws, actor, action, targetType, targetID string) {
		t.Helper()
		e := audit(ws, actor, action, targetType, targetID)
		e.Time = at(d)
		must(t, s.AppendAuditEvent(ctx, e))
	}
	// Ten minutes of events in acme, one per minute, plus a neighbour.
	for i := range 10 {
		actor, action := "alice", "client.update"
		if i%2 == 1 {
			actor, action = "bob", "service.update"
		}
		target := "c1"
		if i >= 5 {
			target = "c2"
		}
		add(time.Duration(i)*time.Minute, "acme", actor, action, "client", target)
	}
	add(3*time.Minute, "beta", "alice", "client.update", "client", "c1")

	cases := []struct {
		name string
		f    storage.AuditFilter
		want int
	}{
		{"since", storage.AuditFilter{Since: at(7 * time.Minute)}, 3},
		{"until is exclusive", storage.AuditFilter{Until: at(2 * time.Minute)}, 2},
		{"range", storage.AuditFilter{Since: at(2 * time.Minute), Until: at(6 * time.Minute)}, 4},
		{"empty range", storage.AuditFilter{Since: at(20 * time.Minute)}, 0},
		{"actor and range", storage.AuditFilter{Actor: "bob", Since: at(2 * time.Minute), Until: at(6 * time.Minute)}, 2},
		{"action", storage.AuditFilter{Action: "service.update"}, 5},
		{"action and target", storage.AuditFilter{Action: "client.update", TargetType: "client", TargetID: "c2"}, 2},
		{"every filter", storage.AuditFilter{Actor: "alice", Action: "client.update", TargetType: "client", TargetID: "c1",
			Since: at(time.Minute), Until: at(5 * time.Minute)}, 2},
		{"all workspaces in range", storage.AuditFilter{AllWorkspaces: true, Since: at(3 * time.Minute), Until: at(4 * time.Minute)}, 2},
	}
	for _, c := range cases {
		f := c.f
		if !f.AllWorkspaces {
			f.WorkspaceID = "acme"
		}
		p, err := s.ListAuditEvents(ctx, f)
		must(t, err)
		if len(p.Items) != c.want {
			t.Errorf("%s: %d events, want %d", c.name, len(p.Items), c.want)
		}
		for _, e := range p.Items {
			if (!f.Since.IsZero() && e.Time.Before(f.Since)) || (!f.Until.IsZero() && !e.Time.Before(f.Until)) {
				t.Errorf("%s: event at %v is outside the range", c.name, e.Time)
			}
		}
	}

	// Paging with a filter: pages of 2 over the 5 events of alice see
	// each once, in strictly decreasing ID order, and end with Next 0.
	var ids []int64
	before := int64(0)
	for range 10 {
		p, err := s.ListAuditEvents(ctx, storage.AuditFilter{WorkspaceID: "acme", Actor: "alice", Limit: 2, Before: before})
		must(t, err)
		for _, e := range p.Items {
			if e.ActorName != "alice" {
				t.Fatalf("page holds an event of %q", e.ActorName)
			}
			ids = append(ids, e.ID)
		}
		if p.Next == 0 {
			break
		}
		before = p.Next
	}
	if len(ids) != 5 {
		t.Fatalf("paging saw %d events, want 5", len(ids))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			t.Fatalf("paging order not newest first: %v", ids)
		}
	}
}

// testGetMail reads one outbox message by ID, sent or not; an unknown ID
// (hostile text included) is ErrNotFound.
func testGetMail(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.EnqueueMail(ctx, storage.Mail{ID: "m1", To: "a@example.com", Subject: "Code", Body: "123456", CreatedAt: at(0)}))
	must(t, s.EnqueueMail(ctx, storage.Mail{ID: "m2", To: "b@example.com", Subject: "Link", Body: "https://x", CreatedAt: at(time.Second)}))
	must(t, s.MarkMail(ctx, "m2", at(time.Minute), ""))
	m, err := s.GetMail(ctx, "m1")
	must(t, err)
	if m.To != "a@example.com" || m.Subject != "Code" || m.Body != "123456" || !m.SentAt.IsZero() {
		t.Fatalf("GetMail m1 = %+v", m)
	}
	sameTime(t, "created", m.CreatedAt, at(0))
	m, err = s.GetMail(ctx, "m2")
	must(t, err)
	sameTime(t, "sent", m.SentAt, at(time.Minute))
	for _, id := range []string{"nope", "", "m1\x00", "\xff"} {
		_, err := s.GetMail(ctx, id)
		wantErr(t, err, storage.ErrNotFound, "GetMail "+id)
	}
}
