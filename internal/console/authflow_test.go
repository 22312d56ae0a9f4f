package console_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestOAuthTabAuthFlowSettings covers the sign-in flow settings on the OAuth
// tab: post-logout redirect URIs, ID token alg, refresh tokens.
func TestOAuthTabAuthFlowSettings(t *testing.T) {
	e := startServer(t)
	b := e.browser()
	tok := b.setupAdmin(t)
	resp, _ := b.post("/console/w/default/clients/new", url.Values{"csrf_token": {tok}, "name": {"Web"}, "type": {"web"},
		"redirect_uri": {"https://app.example/cb"}})
	wantStatus(t, "create client", resp, 200)
	client := strings.TrimSuffix(resp.Request.URL.Path, "/overview")

	_, body := b.get(client + "/oauth")
	alg := between(between(body, `id="id_token_signed_response_alg"`, "</select>"), "<option>", "</option>")
	if alg == "" {
		t.Fatal("the workspace's algorithm is not offered for ID tokens")
	}
	resp, body = b.post(client+"/authflow", url.Values{"csrf_token": {tok}, "subject_format": {"id"},
		"post_logout_redirect_uris": {"https://app.example/bye"}, "id_token_signed_response_alg": {alg},
		"rt_always": {"on"}, "rt_idle_ttl": {"3600"}})
	if resp.StatusCode != 200 {
		t.Fatalf("save: status %d:\n%s", resp.StatusCode, between(body, `role="alert">`, "</div>"))
	}
	for _, want := range []string{"https://app.example/bye", "<option selected>" + alg + "</option>", `name="rt_always" checked`, `value="3600"`} {
		if !strings.Contains(body, want) {
			t.Errorf("OAuth tab lacks %q", want)
		}
	}
	cases := []struct{ name, field, value, want string }{
		{"E3 javascript: post-logout URI", "post_logout_redirect_uris", "javascript:alert(1)", "post_logout_redirect_uris"},
		{"unknown ID token alg", "id_token_signed_response_alg", "none", "id_token_signed_response_alg"},
		{"idle lifetime not a number", "rt_idle_ttl", "soon", "refresh_tokens.idle_ttl"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := b.post(client+"/authflow", url.Values{"csrf_token": {tok}, tc.field: {tc.value}})
			wantStatus(t, tc.name, resp, 400)
			if !strings.Contains(body, tc.want) {
				t.Fatalf("error does not name %s", tc.want)
			}
		})
	}
}
