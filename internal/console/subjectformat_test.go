package console_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestOAuthTabSubjectFormat: the OAuth tab's one subject control saves
// each format, shows the saved one checked, and shows the warning of a
// username or e-mail subject next to it (the admin API's "warnings").
func TestOAuthTabSubjectFormat(t *testing.T) {
	e := startServer(t)
	b := e.browser()
	tok := b.setupAdmin(t)
	resp, _ := b.post("/console/w/default/clients/new", url.Values{"csrf_token": {tok}, "name": {"Web"}, "type": {"web"},
		"redirect_uri": {"https://app.example/cb"}})
	wantStatus(t, "create client", resp, 200)
	client := strings.TrimSuffix(resp.Request.URL.Path, "/overview")

	_, body := b.get(client + "/oauth")
	if !strings.Contains(body, `name="subject_format" value="id" checked`) || strings.Contains(body, `name="subject_type"`) {
		t.Fatal("the OAuth tab does not offer one subject control with id checked by default")
	}
	for _, tc := range []struct{ format, warning string }{
		{"email", "sub changes when the user&#39;s e-mail address changes"},
		{"username", "sub changes when the user&#39;s username changes"},
		{"pairwise", ""},
		{"id", ""},
	} {
		t.Run(tc.format, func(t *testing.T) {
			resp, body := b.post(client+"/authflow", url.Values{"csrf_token": {tok}, "subject_format": {tc.format}})
			wantStatus(t, "save "+tc.format, resp, 200)
			if !strings.Contains(body, `name="subject_format" value="`+tc.format+`" checked`) {
				t.Fatalf("%s is not shown as saved", tc.format)
			}
			warned := strings.Contains(body, `id="subject-warning"`)
			if warned != (tc.warning != "") || !strings.Contains(body, tc.warning) {
				t.Fatalf("warning shown %v, want %q", warned, tc.warning)
			}
		})
	}
	resp, body = b.post(client+"/authflow", url.Values{"csrf_token": {tok}, "subject_format": {"nickname"}})
	wantStatus(t, "unknown format", resp, 400)
	if !strings.Contains(body, "subject_format") {
		t.Fatal("the error does not name subject_format")
	}
}
