package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestUnroutedAnswersAreJSON: on the protocol endpoints and the admin API
// an unknown path is a JSON 404 and a known path with another method a
// JSON 405 with Allow (RFC 6749 §5.2's error shape), never net/http's
// plain text; the sign-in pages keep theirs.
func TestUnroutedAnswersAreJSON(t *testing.T) {
	f := newFlowFixture(t)
	base := strings.TrimSuffix(f.issuer, "/w/default")
	for _, tc := range []struct {
		method, url string
		status      int
		code, allow string
	}{
		{http.MethodPut, f.issuer + "/oauth2/userinfo", http.StatusMethodNotAllowed, "invalid_request", "GET"},
		{http.MethodPost, f.issuer + "/oauth2/jwks", http.StatusMethodNotAllowed, "invalid_request", "GET"},
		{http.MethodDelete, f.issuer + "/oauth2/logout", http.StatusMethodNotAllowed, "invalid_request", "GET"},
		{http.MethodGet, f.issuer + "/oauth2/nothing-here", http.StatusNotFound, "invalid_request", ""},
		{http.MethodGet, f.issuer + "/.well-known/nothing-here", http.StatusNotFound, "invalid_request", ""},
		{http.MethodGet, base + "/admin/v1/nothing-here", http.StatusNotFound, "not_found", ""},
		{http.MethodPut, base + "/admin/v1/workspaces", http.StatusMethodNotAllowed, "invalid_request", "GET"},
	} {
		req, err := http.NewRequestWithContext(t.Context(), tc.method, tc.url, nil)
		must(t, err)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var doc map[string]string
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal(raw, &doc) != nil {
			t.Errorf("%s %s: %d %q %s", tc.method, tc.url, resp.StatusCode, resp.Header.Get("Content-Type"), raw)
			continue
		}
		if doc["error"] != tc.code || doc["error_description"] == "" || !strings.Contains(resp.Header.Get("Allow"), tc.allow) {
			t.Errorf("%s %s: %s (Allow %q)", tc.method, tc.url, raw, resp.Header.Get("Allow"))
		}
	}
	// A page path keeps the router's own answer.
	resp, err := http.Get(f.issuer + "/no-such-page")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("page path: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
