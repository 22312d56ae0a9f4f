package server

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/login"
	"github.com/latchkey/latchkey/internal/service/servicetest"
	"github.com/latchkey/latchkey/internal/storage"
)

// Tests of docs/security.md R8–R10: failed admin tokens are budgeted per
// address, only failed sign-ins count, and a browser with a device cookie
// is counted apart from unknown browsers.

const limitsAdminToken = "limits-test-admin-token-0123456789abcdef"

// fromAddr is an HTTP client whose connections come from the loopback
// address ip (Linux routes all of 127.0.0.0/8 to lo), so that one test can
// act as several remote addresses. A jar makes it a browser.
func fromAddr(t testing.TB, ip string, withJar bool) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c := &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	if withJar {
		c.Jar, _ = cookiejar.New(nil)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func send(t testing.TB, c *http.Client, method, target, bearer string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, target, body)
	must(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// frozenClock is the server clock of the limit tests: pauses and budgets
// do not run out while a test runs, however slow the machine.
func frozenClock() Option {
	now := time.Now()
	return WithClock(func() time.Time { return now })
}

// limitedServer runs a server whose failed-authentication budget is a
// burst of 3.
func limitedServer(t *testing.T) *running {
	t.Helper()
	return start(t, testConfig(t, seededDataDir(t), map[string]string{
		"LATCHKEY_ADMIN_TOKEN": limitsAdminToken, "LATCHKEY_LIMITS_FAILED_AUTH_BURST": "3",
		"LATCHKEY_LIMITS_FAILED_AUTH_RATE": "0.0167",
	}), frozenClock())
}

func want429(t testing.TB, what string, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("%s: status %d, want 429\n%s", what, resp.StatusCode, body)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("%s: Retry-After %q, want whole seconds >= 1", what, resp.Header.Get("Retry-After"))
	}
}

// TestAdminTokenFailuresLimitedPerAddress is docs/security.md R8 at the
// admin API: three bad tokens from one address answer 401, the fourth
// and even a good token from that address answer 429 with Retry-After and
// the API's JSON error; another address is unaffected, and good tokens
// never spend the budget.
func TestAdminTokenFailuresLimitedPerAddress(t *testing.T) {
	r := limitedServer(t)
	target := r.srv.BaseURL() + "/admin/v1/workspaces"
	attacker, other, busy := fromAddr(t, "127.0.0.1", false), fromAddr(t, "127.0.0.2", false), fromAddr(t, "127.0.0.3", false)

	for i := range 10 { // more good requests than the burst: they spend nothing
		if resp, body := send(t, busy, http.MethodGet, target, limitsAdminToken, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("good token %d: %d\n%s", i+1, resp.StatusCode, body)
		}
	}
	for i, bad := range []string{"wrong-token", "", "another-wrong-token"} {
		if resp, body := send(t, attacker, http.MethodGet, target, bad, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("bad token %d: %d, want 401\n%s", i+1, resp.StatusCode, body)
		}
	}
	for _, tc := range []struct{ name, token string }{{"fourth bad token", "wrong-token"}, {"good token", limitsAdminToken}} {
		resp, body := send(t, attacker, http.MethodGet, target, tc.token, nil)
		want429(t, tc.name, resp, body)
		var e struct{ Error, ErrorDescription string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error != "too_many_requests" ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: body %s (%s)", tc.name, body, resp.Header.Get("Content-Type"))
		}
	}
	if resp, body := send(t, other, http.MethodGet, target, limitsAdminToken, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("another address with a good token: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := send(t, other, http.MethodGet, target, "wrong-token", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("another address's first bad token: %d, want 401\n%s", resp.StatusCode, body)
	}
	if resp, body := send(t, busy, http.MethodGet, target, "wrong-token", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("first bad token after ten good ones: %d, want 401 (successes must spend nothing)\n%s", resp.StatusCode, body)
	}
}

// TestConsoleSetupTokenFailuresLimited is docs/security.md R8 at the
// console's "Create the first admin" page: wrong bootstrap tokens spend
// the same per-address budget as the admin API, then the page answers 429
// with Retry-After without checking the token, even a correct one.
func TestConsoleSetupTokenFailuresLimited(t *testing.T) {
	r := limitedServer(t)
	base := r.srv.BaseURL()
	browser := fromAddr(t, "127.0.0.1", true)
	resp, body := send(t, browser, http.MethodGet, base+"/console/setup", "", nil)
	expectStatus(t, resp, body, http.StatusOK)
	form := url.Values{"csrf_token": {csrfOf(t, body)}, "bootstrap_token": {"wrong-token"},
		"username": {"root"}, "password": {"correct horse battery"}}
	for i := range 2 {
		if resp, body := send(t, browser, http.MethodPost, base+"/console/setup", "", form); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong bootstrap token %d: %d, want 401\n%s", i+1, resp.StatusCode, body)
		}
	}
	// The third failure comes from the admin API: one budget for both.
	if resp, body := send(t, browser, http.MethodGet, base+"/admin/v1/workspaces", "wrong-token", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("admin API bad token: %d, want 401\n%s", resp.StatusCode, body)
	}
	resp, body = send(t, browser, http.MethodPost, base+"/console/setup", "", form)
	want429(t, "fourth wrong bootstrap token", resp, body)
	form.Set("bootstrap_token", limitsAdminToken)
	resp, body = send(t, browser, http.MethodPost, base+"/console/setup", "", form)
	want429(t, "correct bootstrap token from a limited address", resp, body)
	if !strings.Contains(body, "Too many attempts") {
		t.Fatalf("429 page does not say why:\n%s", body)
	}
	if n, err := r.srv.svc.ConsoleUserCount(t.Context(), ""); err != nil || n != 0 {
		t.Fatalf("console users after refused setups: %d, %v", n, err)
	}

	other := fromAddr(t, "127.0.0.2", true)
	resp, body = send(t, other, http.MethodGet, base+"/console/setup", "", nil)
	expectStatus(t, resp, body, http.StatusOK)
	form.Set("csrf_token", csrfOf(t, body))
	resp, body = send(t, other, http.MethodPost, base+"/console/setup", "", form)
	expectStatus(t, resp, body, http.StatusSeeOther)
}

// signInStores runs a sign-in test on SQLite, and on PostgreSQL too when
// LATCHKEY_TEST_POSTGRES_DSN is set: the counters live in the database.
// The two run in parallel: most of their time is spent waiting on the
// server.
func signInStores(t *testing.T, run func(t *testing.T, f *flowFixture)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		run(t, newFlowFixtureWith(t, testConfig(t, seededDataDir(t), nil), frozenClock()))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := os.Getenv("LATCHKEY_TEST_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("LATCHKEY_TEST_POSTGRES_DSN is not set")
		}
		cfg := testConfig(t, t.TempDir(), nil)
		cfg.Storage = postgresSchema(t, dsn)
		cfg.StorageDriver = config.DriverPostgres
		run(t, newFlowFixtureWith(t, cfg, frozenClock()))
	})
}

// signInBrowser is one browser of the sign-in tests.
type signInBrowser struct {
	f *flowFixture
	c *http.Client
}

func (f *flowFixture) newBrowser(t testing.TB) *signInBrowser {
	return &signInBrowser{f: f, c: fromAddr(t, "127.0.0.1", true)}
}

// signIn loads the sign-in page of the account page and posts it.
func (b *signInBrowser) signIn(t testing.TB, user, password string) (*http.Response, string) {
	t.Helper()
	resp, body := send(t, b.c, http.MethodGet, b.f.issuer+"/login", "", nil)
	expectStatus(t, resp, body, http.StatusOK)
	return send(t, b.c, http.MethodPost, b.f.issuer+"/login", "", url.Values{
		"username": {user}, "password": {password}, "csrf_token": {csrfOf(t, body)}, "action": {"login"}})
}

func (b *signInBrowser) expect(t testing.TB, what, user, password string, want int) *http.Response {
	t.Helper()
	resp, body := b.signIn(t, user, password)
	if want == http.StatusTooManyRequests {
		want429(t, what, resp, body)
		return resp
	}
	if resp.StatusCode != want {
		t.Fatalf("%s: status %d, want %d\n%s", what, resp.StatusCode, want, body)
	}
	return resp
}

// TestSignInOnlyFailuresCount is docs/security.md R9: parallel successful
// sign-ins of one user from one address, far more than the account's five
// free attempts, never answer 429; failures still do, with Retry-After;
// a success forgets the account's failures; and one address may fail for
// many accounts (an office behind NAT) before it is paused.
func TestSignInOnlyFailuresCount(t *testing.T) {
	t.Parallel()
	signInStores(t, func(t *testing.T, f *flowFixture) {
		for round := range 3 {
			var wg sync.WaitGroup
			codes := make([]int, 12)
			for i := range codes {
				wg.Go(func() {
					b := f.newBrowser(t)
					resp, _ := b.signIn(t, "alice", "correct-horse")
					codes[i] = resp.StatusCode
				})
			}
			wg.Wait()
			for i, c := range codes {
				if c != http.StatusSeeOther {
					t.Fatalf("round %d: parallel successful sign-in %d answered %d, want 303 (successes must not count)", round+1, i+1, c)
				}
			}
		}
		b := f.newBrowser(t)
		for i := range 4 {
			b.expect(t, "failure "+strconv.Itoa(i+1), "alice", "wrong-password", http.StatusBadRequest)
		}
		b.expect(t, "success after four failures", "alice", "correct-horse", http.StatusSeeOther)
		// Without the reset the fifth failure in a row would start the pause.
		stranger := f.newBrowser(t)
		for i := range 5 {
			stranger.expect(t, "failure after the reset "+strconv.Itoa(i+1), "alice", "wrong-password", http.StatusBadRequest)
		}
		stranger.expect(t, "sixth failure", "alice", "wrong-password", http.StatusTooManyRequests)
		stranger.expect(t, "correct password during the pause", "alice", "correct-horse", http.StatusTooManyRequests)

		office := fromAddr(t, "127.0.0.4", true)
		ob := &signInBrowser{f: f, c: office}
		for i := range 40 { // more than the old per-address budget of 30 attempts
			ob.expect(t, "office failure "+strconv.Itoa(i+1), "colleague-"+strconv.Itoa(i), "wrong-password", http.StatusBadRequest)
		}
	})
}

// TestDeviceCookieKeepsRealUserIn is docs/security.md R10: with the
// account paused by failures from unknown browsers, the browser that
// signed in before (valid device cookie) still signs in; a forged cookie
// or one for another account gives no exemption; a device that keeps
// failing loses its cookie.
func TestDeviceCookieKeepsRealUserIn(t *testing.T) {
	t.Parallel()
	signInStores(t, func(t *testing.T, f *flowFixture) {
		ctx := t.Context()
		now := time.Now().UTC()
		must(t, f.r.srv.store.CreateUser(ctx, storage.User{WorkspaceID: "default", ID: "u-bob", Username: "bob",
			Active: true, CreatedAt: now, UpdatedAt: now}))
		must(t, f.r.srv.store.SetUserPassword(ctx, storage.UserPassword{WorkspaceID: "default", UserID: "u-bob",
			Hash: servicetest.PasswordHash("bob-password"), ChangedAt: now}))

		real := f.newBrowser(t)
		resp := real.expect(t, "first sign-in", "alice", "correct-horse", http.StatusSeeOther)
		checkDeviceCookie(t, resp)
		bobs := f.newBrowser(t)
		bobs.expect(t, "bob signs in", "bob", "bob-password", http.StatusSeeOther)
		forged := f.newBrowser(t)
		u, _ := url.Parse(f.issuer)
		forged.c.Jar.SetCookies(u, []*http.Cookie{{Name: login.DeviceCookieName("default"),
			Value: "AbFsZWdpdGltYXRlLWxvb2tpbmctYnV0LWZvcmdlZC1kZXZpY2UtY29va2ll", Path: "/"}})

		attacker := f.newBrowser(t)
		for i := range 5 {
			attacker.expect(t, "attacker failure "+strconv.Itoa(i+1), "alice", "wrong-password", http.StatusBadRequest)
		}
		attacker.expect(t, "attacker during the pause", "alice", "wrong-password", http.StatusTooManyRequests)

		for _, tc := range []struct {
			name string
			b    *signInBrowser
			want int
		}{
			{"real user's browser (device cookie)", real, http.StatusSeeOther},
			{"forged device cookie", forged, http.StatusTooManyRequests},
			{"device cookie of another account", bobs, http.StatusTooManyRequests},
			{"unknown browser with the right password", f.newBrowser(t), http.StatusTooManyRequests},
		} {
			real.expect(t, "real user signs out and in again", "alice", "correct-horse", http.StatusSeeOther)
			tc.b.expect(t, tc.name, "alice", "correct-horse", tc.want)
		}

		// The device's own failures count on its own counter: five, then
		// its cookie is dropped and it is an unknown browser again, which
		// the attacker has paused.
		for i := range 5 {
			real.expect(t, "device failure "+strconv.Itoa(i+1), "alice", "wrong-password", http.StatusBadRequest)
		}
		resp, body := real.signIn(t, "alice", "correct-horse")
		want429(t, "device that used up its failures", resp, body)
		dropped := false
		for _, c := range resp.Cookies() {
			dropped = dropped || c.Name == login.DeviceCookieName("default") && c.MaxAge < 0
		}
		if !dropped {
			t.Fatalf("the device cookie of a device that kept failing was not deleted: %v", resp.Header.Values("Set-Cookie"))
		}
	})
}

func checkDeviceCookie(t *testing.T, resp *http.Response) {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name != login.DeviceCookieName("default") {
			continue
		}
		// An http://127.0.0.1 base URL: no __Host- prefix, no Secure (K6).
		if c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
			c.Path != "/" || c.Domain != "" || c.MaxAge < 364*24*3600 {
			t.Fatalf("device cookie %+v: want no Secure, HttpOnly, SameSite=Lax, Path=/, about a year", c)
		}
		return
	}
	t.Fatalf("no device cookie after a successful sign-in: %v", resp.Header.Values("Set-Cookie"))
}

// TestConsoleSignInOnlyFailuresCount is docs/security.md R9 at the console:
// more successful sign-ins of one admin from one address than the
// limiter's burst of 10 all succeed; failures still end in 429 with
// Retry-After.
func TestConsoleSignInOnlyFailuresCount(t *testing.T) {
	t.Parallel() // argon2id at the production cost: overlaps the tests that wait
	r := limitedServer(t)
	base := r.srv.BaseURL()
	b := fromAddr(t, "127.0.0.1", true)
	resp, body := send(t, b, http.MethodGet, base+"/console/setup", "", nil)
	expectStatus(t, resp, body, http.StatusOK)
	resp, body = send(t, b, http.MethodPost, base+"/console/setup", "", url.Values{"csrf_token": {csrfOf(t, body)},
		"bootstrap_token": {limitsAdminToken}, "username": {"root"}, "password": {"correct horse battery"}})
	expectStatus(t, resp, body, http.StatusSeeOther)
	signIn := func(password string) (*http.Response, string) {
		resp, body := send(t, b, http.MethodGet, base+"/console/signin", "", nil)
		expectStatus(t, resp, body, http.StatusOK)
		return send(t, b, http.MethodPost, base+"/console/signin", "", url.Values{"csrf_token": {csrfOf(t, body)},
			"username": {"root"}, "password": {password}})
	}
	for i := range 15 {
		if resp, body := signIn("correct horse battery"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("successful console sign-in %d: %d, want 303\n%s", i+1, resp.StatusCode, body)
		}
	}
	for i := range 10 {
		if resp, body := signIn("wrong password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failed console sign-in %d: %d, want 401\n%s", i+1, resp.StatusCode, body)
		}
	}
	resp, body = signIn("correct horse battery")
	want429(t, "console sign-in after ten failures", resp, body)
}
