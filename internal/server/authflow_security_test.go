package server

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

func authQuery(mod func(q url.Values)) url.Values {
	_, challenge := pkce()
	q := url.Values{"response_type": {"code"}, "client_id": {"webapp"}, "redirect_uri": {flowRedirect},
		"scope": {"openid"}, "state": {"xyz"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	if mod != nil {
		mod(q)
	}
	return q
}

// TestAuthorizeErrorPages: errors before the redirect URI is trusted are
// an HTML 400 page without Location (SECURITY.md E1, E4, K9).
func TestAuthorizeErrorPages(t *testing.T) {
	f := newFlowFixture(t)
	cases := map[string]func(q url.Values){
		"E4 unknown client":     func(q url.Values) { q.Set("client_id", "nope") },
		"E4 missing redirect":   func(q url.Values) { q.Del("redirect_uri") },
		"E1 path suffix":        func(q url.Values) { q.Set("redirect_uri", flowRedirect+"/x") },
		"E1 case":               func(q url.Values) { q.Set("redirect_uri", "https://app.example.com/CB") },
		"E1 trailing slash":     func(q url.Values) { q.Set("redirect_uri", flowRedirect+"/") },
		"E1 query":              func(q url.Values) { q.Set("redirect_uri", flowRedirect+"?x=1") },
		"E1 http":               func(q url.Values) { q.Set("redirect_uri", "http://app.example.com/cb") },
		"E1 port":               func(q url.Values) { q.Set("redirect_uri", "https://app.example.com:444/cb") },
		"E1 userinfo":           func(q url.Values) { q.Set("redirect_uri", "https://app.example.com@evil.com/cb") },
		"E1 dot segments":       func(q url.Values) { q.Set("redirect_uri", "https://app.example.com/cb/..;/x") },
		"E1 repeated redirect":  func(q url.Values) { q.Add("redirect_uri", flowRedirect) },
		"K9 script in state":    func(q url.Values) { q.Set("client_id", "<script>alert(1)</script>") },
		"E4 repeated client_id": func(q url.Values) { q.Add("client_id", "webapp") },
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			resp, body := f.do(t, http.MethodGet, f.issuer+"/oauth2/authorize?"+authQuery(mod).Encode(), nil)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, `id="error"`) {
				t.Fatalf("status %d Location %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
			if strings.Contains(body, "<script>") {
				t.Fatal("unescaped input on the error page (K9)")
			}
			checkPageHeaders(t, resp)
		})
	}
}

// checkPageHeaders: K5 clickjacking, E13 referrer, K12 caching, E12 no CORS.
func checkPageHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	h := resp.Header
	if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" ||
		h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" || h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("page headers %v", h)
	}
}

// TestAuthorizeErrorRedirects: once the redirect URI is trusted, errors go
// back to it with error, state and iss (E5, E6, E7, E9, F1–F3).
func TestAuthorizeErrorRedirects(t *testing.T) {
	f := newFlowFixture(t)
	pub := f.r.srv.store
	must(t, pub.CreateClient(t.Context(), storage.Client{WorkspaceID: "default", ID: "spa", Name: "SPA", Enabled: true,
		Type: oauth2.ClientPublic, GrantTypes: []string{oauth2.GrantAuthorizationCode}, RedirectURIs: []string{"http://127.0.0.1/cb"},
		TokenEndpointAuthMethod: oauth2.AuthNone}))
	cases := []struct {
		name, want string
		mod        func(q url.Values)
	}{
		{"E5 missing response_type", "invalid_request", func(q url.Values) { q.Del("response_type") }},
		{"E5 token response type", "unsupported_response_type", func(q url.Values) { q.Set("response_type", "token") }},
		{"E5 unknown scope", "invalid_scope", func(q url.Values) { q.Set("scope", "openid admin:all") }},
		{"E7 repeated parameter", "invalid_request", func(q url.Values) { q.Add("response_type", "code") }},
		// RFC 9101 §10.1: an unsigned request object is refused.
		{"E9 request object", "invalid_request_object", func(q url.Values) { q.Set("request", "eyJhbGciOiJub25lIn0.e30.") }},
		{"E9 request_uri", "request_uri_not_supported", func(q url.Values) { q.Set("request_uri", "https://evil.example/r") }},
		// The redirect_uri only inside the request object: the client's one
		// registered URI makes the error redirect safe.
		{"E9 request object without outer redirect_uri", "invalid_request_object", func(q url.Values) {
			q.Set("request", "eyJhbGciOiJub25lIn0.e30.")
			q.Del("redirect_uri")
		}},
		{"E9 request_uri without outer redirect_uri", "request_uri_not_supported", func(q url.Values) {
			// Not from the PAR endpoint (whose request_uri errors are pages,
			// SECURITY.md T3).
			q.Set("request_uri", "urn:example:request_uri:abc")
			q.Del("redirect_uri")
		}},
		{"F2 plain PKCE", "invalid_request", func(q url.Values) { q.Set("code_challenge_method", "plain") }},
		{"F3 short challenge", "invalid_request", func(q url.Values) { q.Set("code_challenge", "abc") }},
		{"F1 PKCE required by default", "invalid_request", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }},
		{"F1 public client without PKCE", "invalid_request", func(q url.Values) {
			q.Set("client_id", "spa")
			q.Set("redirect_uri", "http://127.0.0.1:51234/cb") // E2: any loopback port
			q.Del("code_challenge")
		}},
		{"bad prompt", "invalid_request", func(q url.Values) { q.Set("prompt", "none login") }},
		{"bad max_age", "invalid_request", func(q url.Values) { q.Set("max_age", "-1") }},
		{"bad claims", "invalid_request", func(q url.Values) { q.Set("claims", "{") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := authQuery(tc.mod)
			resp, body := f.do(t, http.MethodGet, f.issuer+"/oauth2/authorize?"+q.Encode(), nil)
			expectStatus(t, resp, body, http.StatusSeeOther)
			loc, err := url.Parse(resp.Header.Get("Location"))
			must(t, err)
			got := loc.Query()
			if got.Get("error") != tc.want || got.Get("state") != "xyz" || got.Get("iss") != f.issuer {
				t.Fatalf("redirect %s", loc)
			}
			want := q.Get("redirect_uri")
			if want == "" {
				want = flowRedirect // the client's only registered URI
			}
			if loc.Scheme+"://"+loc.Host+loc.Path != want {
				t.Fatalf("redirected to %s, not %s", loc, want)
			}
		})
	}
}

// TestAuthorizeLoopbackPortOnly is E2: only the port of a registered
// loopback IP redirect may vary.
func TestAuthorizeLoopbackPortOnly(t *testing.T) {
	f := newFlowFixture(t)
	must(t, f.r.srv.store.CreateClient(t.Context(), storage.Client{WorkspaceID: "default", ID: "native", Name: "Native", Enabled: true,
		Type: oauth2.ClientPublic, GrantTypes: []string{oauth2.GrantAuthorizationCode}, RedirectURIs: []string{"http://127.0.0.1/cb"},
		TokenEndpointAuthMethod: oauth2.AuthNone}))
	for uri, want := range map[string]int{
		"http://127.0.0.1:51234/cb":     http.StatusSeeOther,
		"http://127.0.0.1:51234/cb?x=1": http.StatusBadRequest,
		"http://localhost:51234/cb":     http.StatusBadRequest,
		"http://127.0.0.1:51234/cb/":    http.StatusBadRequest,
	} {
		q := authQuery(func(q url.Values) { q.Set("client_id", "native"); q.Set("redirect_uri", uri) })
		resp, body := f.do(t, http.MethodGet, f.issuer+"/oauth2/authorize?"+q.Encode(), nil)
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d\n%s", uri, resp.StatusCode, want, body)
		}
	}
}

// TestPendingRequestBoundToBrowser is E15 and K1: browser Y cannot use
// browser X's pending request, and a login POST without the CSRF token is
// refused.
func TestPendingRequestBoundToBrowser(t *testing.T) {
	f := newFlowFixture(t)
	resp, body := f.do(t, http.MethodGet, f.issuer+"/oauth2/authorize?"+authQuery(nil).Encode(), nil)
	expectStatus(t, resp, body, http.StatusSeeOther)
	loginURL := resp.Header.Get("Location")
	u, _ := url.Parse(loginURL)
	reqID := u.Query().Get("request_id")

	resp, body = f.do(t, http.MethodPost, f.issuer+"/login", url.Values{"username": {"alice"}, "password": {"correct-horse"},
		"request_id": {reqID}, "action": {"login"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without CSRF token: %d\n%s", resp.StatusCode, body)
	}
	resp, body = f.do(t, http.MethodGet, loginURL, nil)
	expectStatus(t, resp, body, http.StatusOK)
	csrf := csrfOf(t, body)

	jar, _ := cookiejar.New(nil)
	f.browser.Jar = jar // browser Y
	resp, body = f.do(t, http.MethodGet, loginURL, nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("other browser opened the pending request: %d\n%s", resp.StatusCode, body)
	}
	resp, body = f.do(t, http.MethodPost, f.issuer+"/login", url.Values{"username": {"alice"}, "password": {"correct-horse"},
		"request_id": {reqID}, "csrf_token": {csrf}, "action": {"login"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("CSRF token of another browser accepted (K1): %d\n%s", resp.StatusCode, body)
	}
}

// TestLoginFailuresAndLimits: K8 same answer for unknown user and wrong
// password; K7 parallel guesses cannot pass the budget and 429 carries
// Retry-After; K6 cookie flags.
func TestLoginFailuresAndLimits(t *testing.T) {
	f := newFlowFixture(t)
	resp, body := f.do(t, http.MethodGet, f.issuer+"/login", nil)
	expectStatus(t, resp, body, http.StatusOK)
	checkPageHeaders(t, resp)
	// K6 on an http://127.0.0.1 base URL: no __Host- prefix, no Secure.
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "__Host-") || c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" {
			t.Fatalf("cookie %+v (K6)", c)
		}
	}
	csrf := csrfOf(t, body)
	post := func(user, pw string) (*http.Response, string) {
		return f.do(t, http.MethodPost, f.issuer+"/login", url.Values{"username": {user}, "password": {pw}, "csrf_token": {csrf}, "action": {"login"}})
	}
	r1, b1 := post("nobody", "whatever-1")
	r2, b2 := post("alice", "wrong-password")
	if r1.StatusCode != http.StatusBadRequest || r2.StatusCode != http.StatusBadRequest ||
		!strings.Contains(b1, `id="error" class="error" role="alert">Incorrect username or password.`) || !strings.Contains(b2, "Incorrect username or password.") {
		t.Fatalf("K8: %d %d\n%s\n%s", r1.StatusCode, r2.StatusCode, b1, b2)
	}
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, _ := post("alice", "wrong-password")
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
			if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		})
	}
	wg.Wait()
	// One attempt was spent above: at most 4 more reach the password check.
	if codes[http.StatusBadRequest] > 4 || codes[http.StatusTooManyRequests] < 16 {
		t.Fatalf("K7 budget bypassed by parallel attempts: %v", codes)
	}
	resp, _ = post("alice", "correct-horse")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("correct password during the pause: %d, want 429", resp.StatusCode)
	}
}
