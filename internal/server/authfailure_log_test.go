package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A failed client authentication is logged once, by client
// authentication (with the client ID tried and the cause), at every
// endpoint that authenticates clients: the endpoint answering the
// request does not log the same failure a second time
// (endpoint.MarkLogged). The access log line is apart.
func TestClientAuthFailureLoggedOnce(t *testing.T) {
	f := newFlowFixture(t)
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}},
		{"/oauth2/par", url.Values{"response_type": {"code"}, "redirect_uri": {"https://app.example/cb"}}},
		{"/oauth2/introspect", url.Values{"token": {"x"}}},
		{"/oauth2/revoke", url.Values{"token": {"x"}}},
		{"/oauth2/device_authorization", url.Values{"scope": {"openid"}}},
		{"/oauth2/bc-authorize", url.Values{"scope": {"openid"}, "login_hint": {"alice"}}},
	} {
		t.Run(strings.TrimPrefix(tc.path, "/oauth2/"), func(t *testing.T) {
			id := "auth-failure-" + strings.TrimPrefix(tc.path, "/oauth2/")
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.issuer+tc.path, strings.NewReader(tc.form.Encode()))
			must(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Request-Id", id)
			req.SetBasicAuth("no-such-client", "wrong")
			resp, err := http.DefaultClient.Do(req)
			must(t, err)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
			var failures []string
			for _, line := range strings.Split(f.r.logs.String(), "\n") {
				if strings.Contains(line, `"request_id":"`+id+`"`) && !strings.Contains(line, `"msg":"http request"`) {
					failures = append(failures, line)
				}
			}
			if len(failures) != 1 || !strings.Contains(failures[0], `"msg":"client authentication failed"`) {
				t.Fatalf("want one line from client authentication, got %d:\n%s", len(failures), strings.Join(failures, "\n"))
			}
		})
	}
}
