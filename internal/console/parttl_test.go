package console_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestWorkspacePushedRequestTTL: the "Protocols for every client" section
// of the workspace settings shows and saves the lifetime of PAR
// request_uri values (RFC 9126 §2.2); a value outside 10..600 seconds is
// refused with 400 naming the field, and the stored value is kept.
func TestWorkspacePushedRequestTTL(t *testing.T) {
	eachBackend(t, testWorkspacePushedRequestTTL)
}

func testWorkspacePushedRequestTTL(t *testing.T, e *env) {
	b := e.browser()
	tok := b.setupAdmin(t)
	ws := "/console/w/default"
	resp, body := b.get(ws + "/settings")
	wantStatus(t, "settings", resp, 200)
	mustContain(t, "default lifetime", body, `id="pushed_request_ttl" name="pushed_request_ttl" min="10" max="600" value="60"`)

	resp, body = b.post(ws+"/settings/protocols", url.Values{"csrf_token": {tok}, "pushed_request_ttl": {"300"}, "dpop_nonce": {"on"}})
	wantStatus(t, "save lifetime", resp, 200)
	mustContain(t, "saved lifetime", body, "Protocol settings saved", `name="pushed_request_ttl" min="10" max="600" value="300"`,
		`name="dpop_nonce" checked`)
	for _, bad := range []string{"5", "601", "soon"} {
		resp, body = b.post(ws+"/settings/protocols", url.Values{"csrf_token": {tok}, "pushed_request_ttl": {bad}})
		wantStatus(t, "lifetime "+bad, resp, 400)
		if !strings.Contains(body, "pushed_request_ttl") {
			t.Errorf("lifetime %s: the refusal does not name the field", bad)
		}
	}
	_, body = b.get(ws + "/settings")
	mustContain(t, "after the refusals", body, `name="pushed_request_ttl" min="10" max="600" value="300"`)
}
