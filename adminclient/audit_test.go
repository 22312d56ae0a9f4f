package adminclient_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/latchkey/latchkey/adminclient"
)

// TestAuditAndOutboxMethods reads a workspace's audit log with filters
// and pages, the server-wide log, and the (empty) outbox.
func TestAuditAndOutboxMethods(t *testing.T) {
	baseURL, token := startLatchkey(t)
	c := adminclient.New(baseURL, token)
	ctx := t.Context()
	start := time.Now().Add(-time.Minute)
	for _, id := range []string{"a", "b", "c"} {
		if _, err := c.Profiles("default").Create(ctx, adminclient.ProfileRequest{ID: adminclient.Ptr(id), Name: adminclient.Ptr("P " + id)}); err != nil {
			t.Fatal(err)
		}
	}
	q := adminclient.AuditQuery{Since: start, Action: "profile.create", Limit: 2}
	var seen []adminclient.AuditEvent
	for {
		page, err := c.AuditLog(ctx, "default", q)
		if err != nil {
			t.Fatalf("audit log: %v", err)
		}
		seen = append(seen, page.Items...)
		if page.NextPageToken == "" {
			break
		}
		q.PageToken = page.NextPageToken
	}
	if len(seen) != 3 || seen[0].TargetID != "c" || seen[2].TargetID != "a" || seen[0].ActorKind != "api" {
		t.Fatalf("audit events: %+v", seen)
	}
	all, err := c.ServerAuditLog(ctx, adminclient.AuditQuery{Action: "profile.create"})
	if err != nil || len(all.Items) != 3 {
		t.Fatalf("server audit log: %+v %v", all, err)
	}
	_, err = c.AuditLog(ctx, "default", adminclient.AuditQuery{Since: start, Until: start})
	var apiErr *adminclient.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		t.Fatalf("empty range: %v", err)
	}
	if _, err := c.Outbox(ctx, 10); err != nil {
		t.Fatalf("outbox: %v", err)
	}
	_, err = c.OutboxMessage(ctx, "nope")
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Fatalf("missing message: %v", err)
	}
}
