package oidc

// SECURITY.md group K: sign-in, consent and session UI. One subtest per
// row, named with its ID. K7 and K8 (limits, enumeration) get their own
// servers so that their failed sign-ins do not throttle the other rows.

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
	loginpkg "github.com/latchkey/latchkey/internal/login"
)

func TestSecurityK(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for _, row := range []struct {
		id string
		fn func(*testing.T, *env)
	}{
		{"K1_CSRF_on_login_and_consent", testK1},
		{"K2_consent_bound_to_request_and_browser", testK2},
		{"K3_no_state_change_on_GET_or_cross_site_POST", testK3},
		{"K4_session_fixation", testK4},
		{"K5_clickjacking_headers", testK5},
		{"K6_cookie_flags", testK6},
		{"K9_reflected_XSS_escaped", testK9},
		{"K10_client_metadata_escaped_https_only", testK10},
		{"K11_no_open_redirect_in_AS_UI", testK11},
		{"K12_no_caching_of_auth_pages", testK12},
	} {
		t.Run(row.id, func(t *testing.T) { row.fn(t, e) })
	}
}

// K1: a POST without the CSRF token, or with another session's, is 403
// and changes nothing (the flow can still be completed afterwards).
func testK1(t *testing.T, e *env) {
	b := e.browser()
	params := authParams(e.client)
	login := e.toLoginPage(t, b, params)
	other := e.toLoginPage(t, e.browser(), authParams(e.client))
	otherForm, _ := other.Form(loginForm)
	for name, csrf := range map[string]string{"missing": "", "other session's": otherForm.Get("csrf_token"), "garbage": "x" + e2etest.RandomToken(16)} {
		f, _ := login.Form(loginForm)
		_ = f.Set("username", e.user.Username)
		_ = f.Set("password", e.user.Password)
		_ = f.Set("csrf_token", csrf)
		p, err := b.Submit(t.Context(), f, loginSubmit)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != http.StatusForbidden {
			t.Errorf("login with %s CSRF token: %d, want 403", name, p.Status)
		}
	}
	// Not signed in by the refused POSTs:
	silent := e.authorize(t, b, authParams(e.client, "prompt", "none"))
	res := e.drive(t, b, silent, e.client.RedirectURI, flowOpts{noUI: true})
	e.requireRedirectError(t, res, "", "login_required")
	// Consent: same for the consent form.
	u := e.freshUser(t)
	cb := e.browser()
	cparams := authParams(e.client)
	consent := e.toConsentPage(t, cb, cparams, u)
	for name, csrf := range map[string]string{"missing": "", "other session's": otherForm.Get("csrf_token")} {
		f, _ := consent.Form(consentForm)
		_ = f.Set("csrf_token", csrf)
		p, err := cb.Submit(t.Context(), f, consentAllow)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != http.StatusForbidden {
			t.Errorf("consent with %s CSRF token: %d, want 403", name, p.Status)
		}
	}
	res = e.drive(t, cb, submit(t, cb, consent, consentForm, consentAllow, nil), e.client.RedirectURI, flowOpts{user: &u})
	e.requireCode(t, res, cparams.Get("state"))
}

// K2: approving request A with request B's id, or from another browser,
// is refused.
func testK2(t *testing.T, e *env) {
	u := e.freshUser(t)
	b := e.browser()
	pa := authParams(e.client, "scope", "openid")
	consentA := e.toConsentPage(t, b, pa, u)
	pb := authParams(e.client, "scope", "openid profile email")
	p, err := b.FollowRedirects(t.Context(), e.authorize(t, b, pb), nil)
	if err != nil || !p.HasForm(consentForm) {
		t.Fatalf("second request in the same browser did not reach consent: %v", err)
	}
	fb, _ := p.Form(consentForm)
	fa, _ := consentA.Form(consentForm)
	t.Run("other request's id", func(t *testing.T) {
		f, _ := consentA.Form(consentForm)
		_ = f.Set("request_id", fb.Get("request_id")+"x")
		requireRefusedConsent(t, b, f, e.client.RedirectURI)
	})
	t.Run("from another browser", func(t *testing.T) {
		thief := e.browser()
		requireRefusedConsent(t, thief, fa, e.client.RedirectURI)
		thief2 := e.browser()
		_ = e.submitLogin(t, thief2, e.toLoginPage(t, thief2, authParams(e.client)), u.Username, u.Password)
		requireRefusedConsent(t, thief2, fa, e.client.RedirectURI)
	})
}

func requireRefusedConsent(t *testing.T, b *Browser, f *Form, redirectURI string) {
	t.Helper()
	p, err := b.Submit(t.Context(), f, consentAllow)
	if err != nil {
		t.Fatal(err)
	}
	if p.IsRedirect() {
		if loc, _ := p.Location(); sameEndpoint(loc, redirectURI) && loc.Query().Get("code") != "" {
			t.Fatalf("K2: consent accepted, code delivered to %s", loc.Redacted())
		}
	}
	if p.Status != http.StatusBadRequest && p.Status != http.StatusForbidden {
		t.Errorf("K2: refused consent answered %d, want 400 or 403", p.Status)
	}
}

// K3: a GET carrying the consent form's values, and a POST without the
// browser's cookies (what SameSite does to a cross-site POST), approve
// nothing.
func testK3(t *testing.T, e *env) {
	u := e.freshUser(t)
	b := e.browser()
	params := authParams(e.client)
	consent := e.toConsentPage(t, b, params, u)
	f, _ := consent.Form(consentForm)
	v, _ := f.Values(consentAllow)
	p, err := b.Get(t.Context(), f.Action.String()+"?"+v.Encode())
	if err != nil {
		t.Fatal(err)
	}
	requireNoCode(t, p, e.client.RedirectURI, "GET /consent with allow")
	cross := NewBrowser(e.transport())
	cross.Header.Set("Origin", "https://evil.example")
	cross.Header.Set("Sec-Fetch-Site", "cross-site")
	p, err = cross.PostForm(t.Context(), f.Action.String(), v)
	if err != nil {
		t.Fatal(err)
	}
	requireNoCode(t, p, e.client.RedirectURI, "cross-site POST /consent")
	if p.Status < 400 {
		t.Errorf("cross-site consent POST: %d, want 4xx", p.Status)
	}
	// The genuine POST still works: nothing was consumed.
	res := e.drive(t, b, submit(t, b, consent, consentForm, consentAllow, nil), e.client.RedirectURI, flowOpts{user: &u})
	e.requireCode(t, res, params.Get("state"))
}

func requireNoCode(t *testing.T, p *Page, redirectURI, what string) {
	t.Helper()
	if !p.IsRedirect() {
		return
	}
	if loc, _ := p.Location(); sameEndpoint(loc, redirectURI) && loc.Query().Get("code") != "" {
		t.Errorf("%s delivered a code", what)
	}
}

// K4: cookies an attacker planted before sign-in are not a signed-in
// session afterwards (new session id on login; ZITADEL CVE-2024-28197).
func testK4(t *testing.T, e *env) {
	attacker := e.browser()
	login := e.toLoginPage(t, attacker, authParams(e.client))
	root, _ := url.Parse(e.base + "/")
	planted := attacker.Jar().Cookies(root)
	victim := e.browser()
	victim.Jar().SetCookies(root, planted)
	p := e.submitLogin(t, victim, login, e.user.Username, e.user.Password)
	e.drive(t, victim, p, e.client.RedirectURI, flowOpts{user: &e.user})
	silent := e.authorize(t, attacker, authParams(e.client, "prompt", "none"))
	res := e.drive(t, attacker, silent, e.client.RedirectURI, flowOpts{noUI: true})
	if res.Params.Get("code") != "" {
		t.Fatal("K4: the pre-login cookies became an authenticated session")
	}
}

// K5: frame-ancestors 'none' and X-Frame-Options: DENY (RFC 9700 §4.16).
func testK5(t *testing.T, e *env) {
	for name, p := range e.flowPages(t) {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(p.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy = %q, want frame-ancestors 'none'", p.Header.Get("Content-Security-Policy"))
			}
			if v := p.Header.Get("X-Frame-Options"); !strings.EqualFold(v, "DENY") {
				t.Errorf("X-Frame-Options = %q, want DENY", v)
			}
		})
	}
}

// K6: HttpOnly, Path=/, no Domain, SameSite Lax or Strict on every cookie
// of the flow, and the __Host- prefix with Secure exactly when the base
// URL is https (an http base URL is a loopback development run, where
// cookie jars would not return Secure cookies).
func testK6(t *testing.T, e *env) {
	https := strings.HasPrefix(e.base, "https://")
	b := e.browser()
	params := authParams(e.client)
	var setCookies []*http.Cookie
	p := e.authorize(t, b, params)
	for range maxFlowSteps {
		setCookies = append(setCookies, (&http.Response{Header: p.Header}).Cookies()...)
		if p.IsRedirect() {
			if loc, _ := p.Location(); sameEndpoint(loc, e.client.RedirectURI) {
				break
			}
			var err error
			if p, err = b.Follow(t.Context(), p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if p.HasForm(loginForm) {
			p = e.submitLogin(t, b, p, e.user.Username, e.user.Password)
		} else if p.HasForm(consentForm) {
			p = submit(t, b, p, consentForm, consentAllow, nil)
		} else {
			break
		}
	}
	if len(setCookies) == 0 {
		t.Fatal("no cookies set during the flow (the pending request must be bound to the browser, E15)")
	}
	for _, c := range setCookies {
		if c.MaxAge < 0 { // deletions
			continue
		}
		if strings.HasPrefix(c.Name, "__Host-") != https || c.Secure != https || !c.HttpOnly || c.Path != "/" || c.Domain != "" {
			t.Errorf("cookie %s on %s: Secure=%v HttpOnly=%v Path=%q Domain=%q, want __Host- and Secure only on https, HttpOnly, Path=/, no Domain",
				c.Name, e.base, c.Secure, c.HttpOnly, c.Path, c.Domain)
		}
		if c.SameSite != http.SameSiteLaxMode && c.SameSite != http.SameSiteStrictMode {
			t.Errorf("cookie %s: SameSite=%v, want Lax (session) or Strict", c.Name, c.SameSite)
		}
	}
}

// K9: markup in parameters shown on pages is escaped; CSP limits scripts.
func testK9(t *testing.T, e *env) {
	const xss = `<script>alert(1)</script>"><img src=x onerror=alert(1)>`
	for name, params := range map[string]url.Values{
		"client_id":    authParams(clientCreds{ID: xss, RedirectURI: rpRedirect}),
		"redirect_uri": authParams(e.client, "redirect_uri", "https://evil.example/"+xss),
		"state":        authParams(clientCreds{ID: "nope", RedirectURI: rpRedirect}, "state", xss, "error", xss, "error_description", xss),
	} {
		t.Run(name, func(t *testing.T) {
			p := e.authorize(t, e.browser(), params)
			requireErrorPage(t, p, "")
			requireEscaped(t, p, xss)
		})
	}
	t.Run("login request_id", func(t *testing.T) {
		p, err := e.browser().Get(t.Context(), e.issuer+"/login?request_id="+url.QueryEscape(xss))
		if err != nil {
			t.Fatal(err)
		}
		requireEscaped(t, p, xss)
	})
}

func requireEscaped(t *testing.T, p *Page, xss string) {
	t.Helper()
	body := string(p.Body)
	if strings.Contains(body, "<script>alert(1)</script>") || strings.Contains(body, "<img src=x onerror") {
		t.Errorf("K9: markup reflected unescaped")
	}
	csp := p.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") && !strings.Contains(csp, "default-src 'self'") &&
		!strings.Contains(csp, "script-src 'none'") && !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("K9: CSP %q does not restrict scripts to 'self'", csp)
	}
	_ = xss
}

// K10: client metadata shown on consent is escaped; only https links are
// rendered and javascript: URIs are refused at registration.
func testK10(t *testing.T, e *env) {
	const name = `<img src=x onerror=alert(1)>Evil & Co`
	c := e.createClient(t, testWS, clientSpec{ID: "k10-" + strings.ToLower(e2etest.RandomToken(4)), RedirectURIs: []string{rpRedirect},
		Extra: map[string]any{"name": name, "policy_uri": "https://evil.example/privacy", "tos_uri": "https://evil.example/tos",
			"client_uri": "https://evil.example/", "logo_uri": "https://evil.example/logo.png"}})
	for _, field := range []string{"logo_uri", "policy_uri", "tos_uri", "client_uri"} {
		for _, bad := range []string{"javascript:alert(1)", "data:image/png;base64,AAAA", "http://evil.example/x"} {
			r := e.adminRaw(t, http.MethodPatch, "/workspaces/"+testWS+"/clients/"+c.ID, map[string]any{field: bad})
			if r.status != http.StatusBadRequest {
				t.Errorf("%s=%q accepted (%d), want 400", field, bad, r.status)
			}
		}
	}
	p := e.toConsentPage(t, e.browser(), authParams(c, "scope", "openid email"), e.freshUser(t))
	if got, _ := p.TextByID("client-name"); got != name {
		t.Errorf("client-name = %q, want the name as text %q", got, name)
	}
	requireEscaped(t, p, name)
	for _, n := range p.Elements(func(n *htmlNode) bool { return n.Data == "a" || n.Data == "img" }) {
		for _, key := range []string{"href", "src"} {
			if v := Attr(n, key); v != "" && !sameOrigin(p.URL, v) && !strings.HasPrefix(v, "https://") {
				t.Errorf("K10: <%s %s=%q> is not https", n.Data, key, v)
			}
		}
	}
	var scopes []string
	for _, n := range p.Elements(func(n *htmlNode) bool { return HasClass(n, "scope") }) {
		scopes = append(scopes, Attr(n, "data-scope"))
	}
	sort.Strings(scopes)
	if !containsStr(scopes, "email") {
		t.Errorf("consent scopes %v lack data-scope=email", scopes)
	}
}

// K11: the AS's own UI never redirects to another origin.
func testK11(t *testing.T, e *env) {
	tk, _, b := e.fullFlow(t, e.client)
	for _, path := range []string{
		"/login?return_to=https://evil.example/", "/login?next=//evil.example/", "/account?return_to=https://evil.example/",
		"/oauth2/logout?post_logout_redirect_uri=https://evil.example/&id_token_hint=" + url.QueryEscape(tk.IDToken),
		"/oauth2/logout?post_logout_redirect_uri=" + url.QueryEscape(rpRedirect+"/x") + "&client_id=" + e.client.ID,
	} {
		t.Run(path, func(t *testing.T) {
			p, err := b.Get(t.Context(), e.issuer+path)
			if err != nil {
				t.Fatal(err)
			}
			for range maxFlowSteps {
				if !p.IsRedirect() {
					break
				}
				loc, _ := p.Location()
				if loc.Host != p.URL.Host {
					t.Fatalf("K11: redirected off-site to %s", loc.Redacted())
				}
				if p, err = b.Follow(t.Context(), p); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// K12: Cache-Control: no-store on every page of the flow.
func testK12(t *testing.T, e *env) {
	for name, p := range e.flowPages(t) {
		if !strings.Contains(p.Header.Get("Cache-Control"), "no-store") {
			t.Errorf("%s: Cache-Control = %q, want no-store", name, p.Header.Get("Cache-Control"))
		}
	}
}

// K7: 50 parallel wrong passwords for one account: counters are atomic,
// so the limit bites (429 with Retry-After), no more attempts than the
// free ones are checked, and nobody gets in.
func TestSecurityK7_bruteforce_limits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	login := e.toLoginPage(t, b, authParams(e.client))
	form, _ := login.Form(loginForm)
	statuses := make([]*Page, 50)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			v, _ := form.Values(loginSubmit)
			v.Set("username", e.user.Username)
			v.Set("password", "wrong-"+e2etest.RandomToken(8))
			statuses[i], _ = b.PostForm(t.Context(), form.Action.String(), v)
		})
	}
	wg.Wait()
	limited := 0
	for _, p := range statuses {
		switch {
		case p == nil:
			t.Error("request failed")
		case p.Status == http.StatusTooManyRequests:
			limited++
			if p.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		case p.Status != http.StatusBadRequest:
			t.Errorf("wrong password answered %d, want 400 or 429", p.Status)
		}
	}
	if limited == 0 {
		t.Error("K7: 50 parallel wrong passwords for one account were never limited (429)")
	}
	// Atomic counters: no more plain refusals than the account's free
	// attempts slip through, however many requests race.
	if free := loginpkg.DefaultAccountPolicy.Free; len(statuses)-limited > free {
		t.Errorf("K7: %d of 50 parallel attempts were checked, want at most %d (the account's free attempts): counters are not atomic",
			len(statuses)-limited, free)
	}
}

// N3 (with K7): one address trying many accounts is limited too. Its own
// server, so that no earlier failure has spent the address's budget.
func TestSecurityN3_per_address_limit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	form, _ := e.toLoginPage(t, b, authParams(e.client)).Form(loginForm)
	for i := range 1000 {
		v, _ := form.Values(loginSubmit)
		v.Set("username", "nobody"+e2etest.RandomToken(6))
		v.Set("password", "wrong")
		p, err := b.PostForm(t.Context(), form.Action.String(), v)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status == http.StatusTooManyRequests {
			if i == 0 {
				t.Fatal("N3: the very first attempt was limited")
			}
			if p.Header.Get("Retry-After") == "" {
				t.Error("N3: 429 without Retry-After")
			}
			t.Logf("per-address limit after %d attempts", i+1)
			return
		}
		if p.Status != http.StatusBadRequest {
			t.Fatalf("attempt %d: %d, want 400 or 429", i+1, p.Status)
		}
	}
	t.Error("N3: 1000 sign-ins from one address across accounts were never limited")
}

// K8: unknown user and wrong password look the same: status, message and
// (roughly) time. Not parallel: Go runs sequential tests before the
// parallel ones, so no other test's argon2id work skews the timing. One
// warm-up and four samples each stay within the account's five free
// attempts (a sixth would be a 429, K7).
func TestSecurityK8_no_user_enumeration(t *testing.T) {
	e := newEnv(t, envOptions{})
	measure := func(username string) (int, string, time.Duration) {
		b := e.browser()
		p := e.toLoginPage(t, b, authParams(e.client))
		start := time.Now()
		p = e.submitLogin(t, b, p, username, "wrong password 1")
		took := time.Since(start)
		msg, _ := p.TextByID(errorID)
		return p.Status, msg, took
	}
	var known, unknown []time.Duration
	measure(e.user.Username)
	measure("nobody-" + e2etest.RandomToken(6))
	for i := range 4 {
		first, second := e.user.Username, "nobody-"+e2etest.RandomToken(6)
		if i%2 == 1 { // alternate the order: no systematic "second is slower"
			first, second = second, first
		}
		sa, ma, da := measure(first)
		sb, mb, db := measure(second)
		s1, m1, d1, s2, m2, d2 := sa, ma, da, sb, mb, db
		if i%2 == 1 {
			s1, m1, d1, s2, m2, d2 = sb, mb, db, sa, ma, da
		}
		if s1 != http.StatusBadRequest || s2 != s1 || m1 != badLoginText || m2 != m1 {
			t.Fatalf("K8: wrong password %d %q vs unknown user %d %q, want 400 %q for both", s1, m1, s2, m2, badLoginText)
		}
		known, unknown = append(known, d1), append(unknown, d2)
	}
	mk, mu := median(known), median(unknown)
	if mu*3 < mk || mk*3 < mu {
		t.Errorf("K8: timing differs: wrong password %v, unknown user %v (medians)", mk, mu)
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
