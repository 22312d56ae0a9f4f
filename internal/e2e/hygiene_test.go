package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestTokenEndpointHygiene: SECURITY.md Q1-Q3 and D1 from a real HTTP
// client, and Cache-Control: no-store on every token response, success
// and error (RFC 6749 §5.1, G9). Q6 (no secrets in the log) is checked
// when every test's server stops.
func TestTokenEndpointHygiene(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "default"
		lk.createService(t, ws, "api", "https://api.example", "api:read")
		c := lk.secretClient(t, ws, "client_secret_basic", "api:read")
		cred := basic{c.ClientID, c.ClientSecret}
		tokenURL := lk.issuer(ws) + "/oauth2/token"
		cc := url.Values{"grant_type": {"client_credentials"}}

		jsonReq := func() reply {
			req := newRequest(t, http.MethodPost, tokenURL, []byte(`{"grant_type":"client_credentials"}`))
			req.Header.Set("Content-Type", "application/json")
			req.SetBasicAuth(c.ClientID, c.ClientSecret)
			return lk.client.do(t, req)
		}
		getReq := func() reply {
			return lk.client.get(t, tokenURL+"?grant_type=client_credentials&client_id="+url.QueryEscape(c.ClientID))
		}
		cases := []struct {
			name   string
			send   func() reply
			status int
			code   string // "" = success
		}{
			{"success", func() reply { return lk.client.postForm(t, tokenURL, cc, cred) }, http.StatusOK, ""},
			{"Q1 GET", getReq, http.StatusMethodNotAllowed, "invalid_request"},
			{"Q2 JSON body", jsonReq, http.StatusBadRequest, "invalid_request"},
			{"Q3 password grant", func() reply {
				return lk.client.postForm(t, tokenURL, url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"p"}}, cred)
			}, http.StatusBadRequest, "unsupported_grant_type"},
			{"unknown grant", func() reply {
				return lk.client.postForm(t, tokenURL, url.Values{"grant_type": {"urn:example:nope"}}, cred)
			}, http.StatusBadRequest, "unsupported_grant_type"},
			{"missing grant_type", func() reply { return lk.client.postForm(t, tokenURL, url.Values{}, cred) },
				http.StatusBadRequest, "invalid_request"},
			{"D1 wrong secret", func() reply {
				return lk.client.postForm(t, tokenURL, cc, basic{c.ClientID, c.ClientSecret + "x"})
			}, http.StatusUnauthorized, "invalid_client"},
			{"D7 scope beyond the client's", func() reply {
				return lk.client.postForm(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {"api:admin"}}, cred)
			}, http.StatusBadRequest, "invalid_scope"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.send()
				if r.status != tc.status || r.str("error") != tc.code {
					t.Fatalf("got %d %s, want %d %q", r.status, r.raw, tc.status, tc.code)
				}
				if cc := r.header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control %q, want no-store", cc)
				}
				if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
					t.Errorf("Content-Type %q, want application/json", r.header.Get("Content-Type"))
				}
				if tc.code == "" {
					lk.leaks.AddToken(r.str("access_token"))
				}
				if tc.status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
					t.Errorf("401 without WWW-Authenticate: Basic (RFC 6749 §5.2): %q", r.header.Get("WWW-Authenticate"))
				}
				if strings.Contains(string(r.raw), c.ClientSecret) {
					t.Errorf("response echoes the client secret")
				}
			})
		}
	})
}
