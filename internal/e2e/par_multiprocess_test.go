package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// TestPARMultiProcess: two `latchkey serve` processes on one PostgreSQL
// schema; a request_uri pushed to one is used at both authorization
// endpoints at once, again and again, and exactly one use succeeds each
// time (RFC 9126 §4 one-time use; SECURITY.md T1 "over 2 nodes"). A
// successful use starts the sign-in (303 to /login); the other one gets
// our error page.
func TestPARMultiProcess(t *testing.T) {
	t.Parallel()
	p1, p2, _ := startProcessPair(t, "multi-process PAR test")
	const ws = "default"
	const redirect = "https://rp.example.test/cb"
	c := p1.createClient(t, ws, map[string]any{
		"name": "e2e PAR", "grant_types": []string{"authorization_code"}, "redirect_uris": []string{redirect},
		"token_endpoint_auth_method": "client_secret_basic", "require_pkce": false,
	})
	cred := basic{c.ClientID, c.ClientSecret}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for round := range 10 {
		pushedTo := []*instance{p1, p2}[round%2]
		var uri string
		eventually(t, func() (string, bool) {
			r := pushedTo.client.postForm(t, pushedTo.wsURL(ws)+"/oauth2/par", url.Values{
				"response_type": {"code"}, "client_id": {c.ClientID}, "redirect_uri": {redirect}, "scope": {"openid"},
				"state": {"s"},
			}, cred)
			uri = r.str("request_uri")
			return uri, r.status == http.StatusCreated
		})
		q := url.Values{"client_id": {c.ClientID}, "request_uri": {uri}}.Encode()
		statuses := make([]int, 2)
		locations := make([]string, 2)
		var wg sync.WaitGroup
		for i, lk := range []*instance{p1, p2} {
			wg.Go(func() {
				req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, lk.wsURL(ws)+"/oauth2/authorize?"+q, nil)
				if err != nil {
					t.Error(err)
					return
				}
				resp, err := noRedirect.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_ = resp.Body.Close()
				statuses[i], locations[i] = resp.StatusCode, resp.Header.Get("Location")
			})
		}
		wg.Wait()
		wins := 0
		for i, s := range statuses {
			switch {
			case s == http.StatusSeeOther && strings.Contains(locations[i], "/login?request_id="):
				wins++
			case s == http.StatusBadRequest && locations[i] == "":
			default:
				t.Fatalf("round %d: process %d answered %d (Location %q)", round, i+1, s, locations[i])
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d of two concurrent uses of one request_uri succeeded, want exactly 1 (%v)", round, wins, statuses)
		}
	}
}
