package oidc

// SECURITY.md group E: authorization endpoint, redirect URIs, open
// redirect, mix-up. One subtest per row, named with its ID.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

func TestSecurityE(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for _, row := range []struct {
		id string
		fn func(*testing.T, *env)
	}{
		{"E1_exact_redirect_matching", testE1},
		{"E2_loopback_port_exception_only", testE2},
		{"E3_registration_hygiene", testE3},
		{"E4_unverifiable_client_or_redirect_gets_error_page", testE4},
		{"E5_other_errors_redirect_with_state_and_iss", testE5},
		{"E6_iss_in_every_response_and_discovery", testE6},
		{"E7_duplicate_parameters", testE7},
		{"E8_unknown_parameters_and_POST", testE8},
		{"E9_request_and_request_uri", testE9},
		{"E10_prompt_none_never_skips_authentication", testE10},
		{"E11_303_after_credential_POST", testE11},
		{"E12_no_CORS_on_authorize", testE12},
		{"E13_no_referrer_no_third_party_resources", testE13},
		{"E14_prompt_and_max_age_semantics", testE14},
		{"E15_pending_request_bound_to_browser", testE15},
	} {
		t.Run(row.id, func(t *testing.T) { row.fn(t, e) })
	}
}

// E1: only the exact registered string matches (RFC 9700 §4.1.3).
func testE1(t *testing.T, e *env) {
	c := e.createClient(t, testWS, clientSpec{ID: "e1-" + e2etest.RandomToken(4), RedirectURIs: []string{"https://app.example/cb"}})
	for _, bad := range []string{
		"https://app.example/cb/x", "https://app.example/CB", "https://app.example/cb/", "https://app.example/cb?x=1",
		"https://app.example/cb#f", "http://app.example/cb", "https://app.example:444/cb",
		"https://app.example.evil.com/cb", "https://app.example@evil.com/cb", `https://app.example\@evil.com/cb`,
		"https://app.example/cb/..;/x", "https://app.example/cb/%2e%2e", "https://app.example/%63b",
		"https://APP.example/cb", "https://аpp.example/cb", "https://xn--pp-7ka.example/cb", "//app.example/cb",
		"https://app.example/cb%00", " https://app.example/cb",
	} {
		t.Run(url.PathEscape(bad), func(t *testing.T) {
			requireErrorPage(t, e.authorize(t, e.browser(), authParams(c, "redirect_uri", bad)), "")
		})
	}
	t.Run("exact", func(t *testing.T) {
		p := e.authorize(t, e.browser(), authParams(c))
		if !p.IsRedirect() {
			t.Fatalf("exact redirect URI: %d, want a redirect to sign-in", p.Status)
		}
	})
}

// E2: a loopback redirect URI matches with any port, nothing else relaxed
// (RFC 8252 §7.3; fosite CVE-2020-15233).
func testE2(t *testing.T, e *env) {
	c := e.createClient(t, testWS, clientSpec{ID: "e2-" + e2etest.RandomToken(4), RedirectURIs: []string{"http://127.0.0.1/cb"}})
	t.Run("other port proceeds", func(t *testing.T) {
		cc := c
		cc.RedirectURI = "http://127.0.0.1:51234/cb"
		params := authParams(cc)
		res := e.codeFlowIn(t, e.browser(), params, flowOpts{user: &e.user})
		if res.Callback.Host != "127.0.0.1:51234" {
			t.Errorf("redirected to %s, want the requested port", res.Callback)
		}
		requireTokens(t, e.exchange(t, cc, res.Params.Get("code"), nil))
	})
	for _, bad := range []string{"http://127.0.0.1:51234/cb?x=1", "http://localhost:51234/cb", "http://127.0.0.1:51234/cb/x",
		"http://[::1]:51234/cb", "https://127.0.0.1:51234/cb"} {
		t.Run(url.PathEscape(bad), func(t *testing.T) {
			requireErrorPage(t, e.authorize(t, e.browser(), authParams(c, "redirect_uri", bad)), "")
		})
	}
}

// E3: dangerous redirect URIs are refused at registration (RFC 9700 §2.6).
func testE3(t *testing.T, e *env) {
	for _, bad := range []string{"javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>",
		"https://app.example/cb#f", "https://*.example/cb", "https://app.example/*", "http://example.com/cb", "/relative/cb"} {
		t.Run(url.PathEscape(bad), func(t *testing.T) {
			r := e.adminRaw(t, http.MethodPost, "/workspaces/"+testWS+"/clients",
				clientSpec{ID: "e3-" + e2etest.RandomToken(4), RedirectURIs: []string{bad}}.body())
			if r.status != http.StatusBadRequest {
				t.Errorf("registering %q: %d %s, want 400", bad, r.status, r.raw)
			}
		})
	}
}

// E4: unknown client_id, or no redirect_uri (OIDC requires it): error
// page, never a redirect (RFC 6749 §4.1.2.1).
func testE4(t *testing.T, e *env) {
	for name, params := range map[string]url.Values{
		"unknown client_id":    authParams(clientCreds{ID: "no-such-client", RedirectURI: rpRedirect}),
		"missing client_id":    authParams(e.client, "client_id", ""),
		"missing redirect_uri": authParams(e.client, "redirect_uri", ""),
		"other client's uri":   authParams(e.client, "redirect_uri", rpRedirect2),
		"unregistered uri":     authParams(clientCreds{ID: "client", RedirectURI: "https://evil.example/cb"}),
	} {
		t.Run(name, func(t *testing.T) {
			requireErrorPage(t, e.authorize(t, e.browser(), params), "")
		})
	}
}

// E5: errors about a verified client and redirect URI go back to it with
// error, state and iss (RFC 6749 §4.1.2.1, RFC 9207).
func testE5(t *testing.T, e *env) {
	for _, tc := range []struct {
		name  string
		extra []string
		codes []string
	}{
		{"missing response_type", []string{"response_type", ""}, []string{"invalid_request", "unsupported_response_type"}},
		{"response_type token", []string{"response_type", "token"}, []string{"unsupported_response_type"}},
		{"response_type id_token", []string{"response_type", "code id_token"}, []string{"unsupported_response_type"}},
		{"unknown scope", []string{"scope", "openid no-such-scope"}, []string{"invalid_scope"}},
		{"unknown response_mode", []string{"response_mode", "jwt-ish"}, []string{"invalid_request"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := authParams(e.client, tc.extra...)
			b := e.browser()
			res := e.drive(t, b, e.authorize(t, b, params), e.client.RedirectURI, flowOpts{noUI: true})
			e.requireRedirectError(t, res, params.Get("state"), tc.codes...)
		})
	}
}

// E6: iss in success and error responses, in every response mode, and
// advertised in discovery (RFC 9207 §2, §3).
func testE6(t *testing.T, e *env) {
	if !supported(e.discovery(t), "authorization_response_iss_parameter_supported") {
		t.Error("discovery lacks authorization_response_iss_parameter_supported: true")
	}
	for _, mode := range []string{"query", "fragment", "form_post"} {
		t.Run(mode, func(t *testing.T) {
			params := authParams(e.client, "response_mode", mode)
			res := e.codeFlowIn(t, e.browser(), params, flowOpts{user: &e.user}) // checks iss
			if mode == "fragment" && res.Callback.Fragment == "" {
				t.Error("response_mode=fragment answered in the query")
			}
			if mode == "form_post" && !res.FormPost {
				t.Error("response_mode=form_post did not answer with a form post page")
			}
		})
	}
	t.Run("error", func(t *testing.T) {
		params := authParams(e.client, "prompt", "none")
		b := e.browser()
		res := e.drive(t, b, e.authorize(t, b, params), e.client.RedirectURI, flowOpts{noUI: true})
		e.requireRedirectError(t, res, params.Get("state"), "login_required")
	})
}

// E7: a repeated parameter is invalid_request (RFC 6749 §3.1); with the
// client or redirect URI repeated, not even the redirect can be trusted.
func testE7(t *testing.T, e *env) {
	t.Run("response_type twice", func(t *testing.T) {
		params := authParams(e.client)
		params.Add("response_type", "code")
		b := e.browser()
		res := e.drive(t, b, e.authorize(t, b, params), e.client.RedirectURI, flowOpts{noUI: true})
		e.requireRedirectError(t, res, "", "invalid_request")
	})
	for _, key := range []string{"client_id", "redirect_uri"} {
		t.Run(key+" twice", func(t *testing.T) {
			params := authParams(e.client)
			params.Add(key, params.Get(key))
			requireErrorPage(t, e.authorize(t, e.browser(), params), "")
		})
	}
}

// E8: unknown parameters are ignored; POST works (OIDC Core §3.1.2.1).
func testE8(t *testing.T, e *env) {
	params := authParams(e.client, "extra", "foobar", "x-custom", "1")
	e.codeFlowIn(t, e.browser(), params, flowOpts{user: &e.user})
	params = authParams(e.client, "extra", "foobar")
	b := e.browser()
	res := e.drive(t, b, e.authorizePost(t, b, params), e.client.RedirectURI, flowOpts{user: &e.user})
	e.requireCode(t, res, params.Get("state"))
}

// E9: request / request_uri are processed or refused as unsupported;
// request_uri is never fetched when unsupported (SSRF, group L).
func testE9(t *testing.T, e *env) {
	d := e.discovery(t)
	for _, tc := range []struct{ param, value, flag, code string }{
		{"request", unsignedRequestObject(t, e, authParams(e.client)), "request_parameter_supported", "request_not_supported"},
		{"request_uri", "https://127.0.0.1:1/req.jwt", "request_uri_parameter_supported", "request_uri_not_supported"},
	} {
		t.Run(tc.param, func(t *testing.T) {
			if supported(d, tc.flag) {
				t.Skipf("%s is advertised: its processing is covered by the conformance modules", tc.flag)
			}
			params := authParams(e.client, tc.param, tc.value)
			b := e.browser()
			res := e.drive(t, b, e.authorize(t, b, params), e.client.RedirectURI, flowOpts{noUI: true})
			e.requireRedirectError(t, res, params.Get("state"), tc.code)
		})
	}
}

// E10: prompt=none never auto-redirects an unauthenticated browser with a
// code, and never to an unregistered URI (RFC 9700 §4.11.2).
func testE10(t *testing.T, e *env) {
	params := authParams(e.client, "prompt", "none")
	b := e.browser()
	res := e.drive(t, b, e.authorize(t, b, params), e.client.RedirectURI, flowOpts{noUI: true})
	e.requireRedirectError(t, res, params.Get("state"), "login_required")
	requireErrorPage(t, e.authorize(t, e.browser(), authParams(e.client, "prompt", "none", "redirect_uri", "https://evil.example/cb")), "")
}

// E11: after the credential POST the browser is sent on with 303 (or
// 302), never 307/308 which would replay the password (RFC 9700 §4.12).
func testE11(t *testing.T, e *env) {
	b := e.browser()
	p := e.toLoginPage(t, b, authParams(e.client))
	after := e.submitLogin(t, b, p, e.user.Username, e.user.Password)
	if after.Status != http.StatusSeeOther && after.Status != http.StatusFound {
		t.Fatalf("login POST answered %d, want 303 (or 302)", after.Status)
	}
	p, err := b.FollowRedirects(t.Context(), after, func(u *url.URL) bool { return sameEndpoint(u, e.client.RedirectURI) })
	if err != nil {
		t.Fatal(err)
	}
	if p.HasForm(consentForm) {
		after = submit(t, b, p, consentForm, consentAllow, nil)
		if after.Status != http.StatusSeeOther && after.Status != http.StatusFound {
			t.Fatalf("consent POST answered %d, want 303 (or 302)", after.Status)
		}
	}
}

// E12: no CORS on the authorization endpoint (RFC 9700 §2.6).
func testE12(t *testing.T, e *env) {
	h := http.Header{"Origin": {"https://evil.example"}}
	r := e.get(t, e.issuer+"/oauth2/authorize?"+authParams(e.client).Encode(), h)
	if v := r.header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("GET authorize: Access-Control-Allow-Origin %q", v)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, e.issuer+"/oauth2/authorize", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	if v := e.send(t, req).header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("preflight: Access-Control-Allow-Origin %q", v)
	}
}

// E13: Referrer-Policy: no-referrer on every page of the flow, and no
// script or stylesheet from another origin (RFC 9700 §4.2.4).
func testE13(t *testing.T, e *env) {
	for name, p := range e.flowPages(t) {
		t.Run(name, func(t *testing.T) {
			if v := p.Header.Get("Referrer-Policy"); v != "no-referrer" {
				t.Errorf("Referrer-Policy = %q, want no-referrer", v)
			}
			for _, n := range p.Elements(func(n *htmlNode) bool { return n.Data == "script" || n.Data == "link" }) {
				for _, key := range []string{"src", "href"} {
					if v := Attr(n, key); v != "" && !sameOrigin(p.URL, v) {
						t.Errorf("<%s %s=%q> loads from another origin", n.Data, key, v)
					}
				}
			}
		})
	}
}

// E14: prompt and max_age (OIDC Core §3.1.2.1, §3.1.2.6).
func testE14(t *testing.T, e *env) {
	t.Run("prompt=none without session", func(t *testing.T) { testE10(t, e) })
	t.Run("prompt=none needing consent", func(t *testing.T) {
		b, u := e.browser(), e.freshUser(t)
		e.codeFlowIn(t, b, authParams(e.client), flowOpts{user: &u}) // signed in, consented to client only
		params := authParams(e.client2, "prompt", "none")
		res := e.drive(t, b, e.authorize(t, b, params), e.client2.RedirectURI, flowOpts{noUI: true})
		e.requireRedirectError(t, res, params.Get("state"), "consent_required")
	})
	t.Run("prompt=login forces sign-in", func(t *testing.T) {
		b := e.browser()
		e.codeFlowIn(t, b, authParams(e.client), flowOpts{user: &e.user})
		res := e.codeFlowIn(t, b, authParams(e.client, "prompt", "login"), flowOpts{user: &e.user})
		if res.LoginShown != 1 {
			t.Errorf("prompt=login: %d sign-in pages, want 1", res.LoginShown)
		}
	})
	t.Run("prompt=consent asks again", func(t *testing.T) {
		b := e.browser()
		e.codeFlowIn(t, b, authParams(e.client), flowOpts{user: &e.user})
		res := e.codeFlowIn(t, b, authParams(e.client, "prompt", "consent"), flowOpts{user: &e.user})
		if res.ConsentShown != 1 {
			t.Errorf("prompt=consent: %d consent pages, want 1", res.ConsentShown)
		}
	})
	t.Run("prompt=none with login", func(t *testing.T) {
		params := authParams(e.client, "prompt", "none login")
		b := e.browser()
		res := e.drive(t, b, e.authorize(t, b, params), e.client.RedirectURI, flowOpts{noUI: true})
		e.requireRedirectError(t, res, params.Get("state"), "invalid_request")
	})
	// max_age=1 with a later auth_time: TestOIDCC_max_age_1 (it needs its own clock).
}

// E15: a pending request is bound to the browser that started it: another
// browser opening its sign-in URL cannot complete it (Dex CVE-2022-39222).
func testE15(t *testing.T, e *env) {
	attacker := e.browser()
	params := authParams(e.client)
	loginPage := e.toLoginPage(t, attacker, params)
	victim := e.browser()
	p, err := victim.Get(t.Context(), loginPage.URL.String())
	if err != nil {
		t.Fatal(err)
	}
	for range maxFlowSteps {
		switch {
		case p.IsRedirect():
			loc, _ := p.Location()
			if sameEndpoint(loc, e.client.RedirectURI) {
				if loc.Query().Get("code") != "" && loc.Query().Get("state") == params.Get("state") {
					t.Fatalf("E15: the victim's browser completed the attacker's pending request: %s", loc.Redacted())
				}
				t.Logf("victim redirected without the attacker's code: error=%q", loc.Query().Get("error"))
				return
			}
			p, err = victim.Follow(t.Context(), p)
		case p.HasForm(loginForm):
			p = e.submitLogin(t, victim, p, e.user.Username, e.user.Password)
		case p.HasForm(consentForm):
			p = submit(t, victim, p, consentForm, consentAllow, nil)
		default:
			if p.Status < 400 {
				t.Fatalf("E15: victim ended on %s %d, want a 4xx or a restarted flow", p.URL, p.Status)
			}
			msg, _ := p.TextByID(errorID)
			t.Logf("victim refused at %s: %d %q", p.URL.Path, p.Status, msg)
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// toLoginPage starts an authorization in b and follows it to the sign-in
// page.
func (e *env) toLoginPage(t *testing.T, b *Browser, params url.Values) *Page {
	t.Helper()
	p, err := b.FollowRedirects(t.Context(), e.authorize(t, b, params), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.HasForm(loginForm) {
		t.Fatalf("expected the sign-in page, got %s %d:\n%s", p.URL, p.Status, clip(p.Body))
	}
	return p
}

// toConsentPage signs in (fresh browser) and returns the consent page.
func (e *env) toConsentPage(t *testing.T, b *Browser, params url.Values, u testUser) *Page {
	t.Helper()
	p := e.submitLogin(t, b, e.toLoginPage(t, b, params), u.Username, u.Password)
	p, err := b.FollowRedirects(t.Context(), p, func(l *url.URL) bool { return sameEndpoint(l, params.Get("redirect_uri")) })
	if err != nil {
		t.Fatal(err)
	}
	if !p.HasForm(consentForm) {
		t.Fatalf("expected the consent page, got %s %d:\n%s", p.URL, p.Status, clip(p.Body))
	}
	return p
}

// flowPages returns the authorize response, sign-in, consent and error
// pages, for header checks (E13, K5, K12).
func (e *env) flowPages(t *testing.T) map[string]*Page {
	t.Helper()
	b := e.browser()
	params := authParams(e.client, "scope", "openid profile")
	authz := e.authorize(t, b, params)
	login := e.toLoginPage(t, e.browser(), params)
	u := e.freshUser(t)
	consent := e.toConsentPage(t, e.browser(), params, u)
	errPage := e.authorize(t, e.browser(), authParams(clientCreds{ID: "no-such-client", RedirectURI: rpRedirect}))
	return map[string]*Page{"authorize": authz, "login": login, "consent": consent, "error": errPage}
}

// freshUser creates a user who has consented to nothing yet.
func (e *env) freshUser(t *testing.T) testUser {
	t.Helper()
	name := "u" + strings.ToLower(e2etest.RandomToken(6))
	name = strings.NewReplacer("-", "x", "_", "y").Replace(name)
	return e.createUser(t, testWS, name, name+"@example.test")
}

func sameOrigin(page *url.URL, ref string) bool {
	u, err := page.Parse(ref)
	if err != nil {
		return false
	}
	return u.Scheme == page.Scheme && u.Host == page.Host
}
