package adminapi

import (
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
)

// FuzzAuditQuery: any query string of an audit listing is parsed into a
// filter or refused with a 400 *httpError, never a panic; an accepted
// range is never empty or reversed, and equal filters encode equally (the
// page token's associated data).
func FuzzAuditQuery(f *testing.F) {
	for _, s := range []string{"", "since=2026-03-01T00:00:00Z&until=2026-03-02T00:00:00Z", "actor=a&actor=b", "limit=0",
		"since=2026-03-01T00:00:00.123456789+05:30", "client=c1&action=client.update", "until=yesterday", "limit=500&actor=%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		got, filters, err := parseAuditQuery(q, storage.AuditFilter{WorkspaceID: "acme"})
		if err != nil {
			he, ok := err.(*httpError)
			if !ok || he.status != 400 || he.desc == "" {
				t.Fatalf("unclassified error %T %v", err, err)
			}
			return
		}
		if !got.Since.IsZero() && !got.Until.IsZero() && !got.Since.Before(got.Until) {
			t.Fatalf("accepted range %v..%v", got.Since, got.Until)
		}
		if got.WorkspaceID != "acme" || got.Limit < 0 || got.Limit > storage.MaxPageSize {
			t.Fatalf("filter %+v", got)
		}
		if (got.TargetID != "") != (got.TargetType != "") {
			t.Fatalf("client filter without its target type: %+v", got)
		}
		_, again, _ := parseAuditQuery(q, storage.AuditFilter{WorkspaceID: "acme"})
		if again != filters || !strings.HasPrefix(filters, "[") {
			t.Fatalf("filters encode unstably: %q vs %q", filters, again)
		}
	})
}
