package oidc

// The OpenID Foundation's Basic OP plan (oidcc-basic-certification-test-plan),
// ported module by module with static clients (../../../../shared/CONFORMANCE.md).
// Each test is named after its module and asserts what the module checks;
// where the real module only warns, a comment says so and the stricter
// SECURITY.md row decides. Modules 3, 4 and 33 need dynamic registration
// and are not ported here.

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// oidcc-server: the happy path: code flow, client_secret_basic, ID token
// validation (signature, iss, aud, exp, iat, nonce, at_hash), state, iss.
func TestOIDCC_server(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	tk, it, _ := e.fullFlow(t, e.client)
	if it.Issuer != e.issuer || !containsStr(it.Audience, e.client.ID) {
		t.Errorf("iss %q aud %v", it.Issuer, it.Audience)
	}
	if it.Expiry.Before(e.clock.Now()) {
		t.Errorf("ID token already expired at %v", it.Expiry)
	}
	it.authTime(t)
	if tk.RefreshToken != "" && !strings.Contains(" "+tk.Scope+" ", " offline_access ") {
		t.Logf("refresh token issued without offline_access (the client's refresh setting)")
	}
}

// oidcc-response-type-missing: no response_type: an error page, or a
// redirect with unsupported_response_type or invalid_request.
func TestOIDCC_response_type_missing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	params := authParams(e.client, "response_type", "")
	b := e.browser()
	p := e.authorize(t, b, params)
	if !p.IsRedirect() {
		requireErrorPage(t, p, "")
		return
	}
	res := e.drive(t, b, p, e.client.RedirectURI, flowOpts{noUI: true})
	e.requireRedirectError(t, res, params.Get("state"), "unsupported_response_type", "invalid_request")
}

// oidcc-userinfo-get: UserInfo with GET and the Bearer header.
func TestOIDCC_userinfo_get(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	tk, it, _ := e.fullFlow(t, e.client)
	requireUserinfo(t, e.userinfo(t, http.MethodGet, tk.AccessToken, false), it.Subject)
}

// oidcc-userinfo-post-header: UserInfo with POST, token in the header.
func TestOIDCC_userinfo_post_header(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	tk, it, _ := e.fullFlow(t, e.client)
	requireUserinfo(t, e.userinfo(t, http.MethodPost, tk.AccessToken, false), it.Subject)
}

// oidcc-userinfo-post-body: UserInfo with POST, token in the body (RFC 6750
// §2.2). Optional in the plan (warning only); docs/authorization-flow.md
// promises it, so it is required here.
func TestOIDCC_userinfo_post_body(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	tk, it, _ := e.fullFlow(t, e.client)
	requireUserinfo(t, e.userinfo(t, http.MethodPost, tk.AccessToken, true), it.Subject)
}

// oidcc-ensure-request-without-nonce-succeeds-for-code-flow: nonce is
// optional in the code flow (OIDC Core §3.1.2.1); the ID token then has
// no nonce.
func TestOIDCC_ensure_request_without_nonce_succeeds_for_code_flow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	params := authParams(e.client, "nonce", "")
	_, res := e.codeFlow(t, params)
	tk := requireTokens(t, e.exchange(t, e.client, res.Params.Get("code"), nil))
	e.verifyIDToken(t, e.client.ID, tk.IDToken, "", tk.AccessToken)
}

// Standard scopes and the UserInfo claims they release (OIDC Core §5.4).
var scopeClaims = map[string][]string{
	"profile": {"name", "given_name", "family_name"},
	"email":   {"email"},
	"address": {"address"},
	"phone":   {"phone_number"},
}

// scopeModule runs one oidcc-scope-* module: the claims of each requested
// scope are returned by UserInfo (the plan's CheckForScopeClaims).
func scopeModule(t *testing.T, scopes ...string) {
	t.Helper()
	e := newEnv(t, envOptions{})
	tk, it, _ := e.fullFlow(t, e.client, "scope", "openid "+strings.Join(scopes, " "))
	r := e.userinfo(t, http.MethodGet, tk.AccessToken, false)
	requireUserinfo(t, r, it.Subject)
	for _, sc := range scopes {
		for _, claim := range scopeClaims[sc] {
			if r.json[claim] == nil {
				t.Errorf("scope %s: UserInfo lacks %q: %s", sc, claim, r.raw)
			}
		}
	}
	if addr, ok := r.json["address"]; ok {
		if _, isObj := addr.(map[string]any); !isObj {
			t.Errorf("address claim is %T, want a JSON object (OIDC Core §5.1.1)", addr)
		}
	}
}

func TestOIDCC_scope_profile(t *testing.T) { t.Parallel(); scopeModule(t, "profile") }
func TestOIDCC_scope_email(t *testing.T)   { t.Parallel(); scopeModule(t, "email") }
func TestOIDCC_scope_address(t *testing.T) { t.Parallel(); scopeModule(t, "address") }
func TestOIDCC_scope_phone(t *testing.T)   { t.Parallel(); scopeModule(t, "phone") }
func TestOIDCC_scope_all(t *testing.T) {
	t.Parallel()
	scopeModule(t, "profile", "email", "address", "phone")
}

// oidcc-alternate-happy-flow: scopes in another order and parameters in
// another order must not matter.
func TestOIDCC_alternate_happy_flow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	state, nonce := e2etest.RandomToken(12), e2etest.RandomToken(12)
	q := "nonce=" + nonce + "&state=" + state + "&scope=" + url.QueryEscape("email profile openid") +
		"&redirect_uri=" + url.QueryEscape(e.client.RedirectURI) + "&client_id=" + e.client.ID + "&response_type=code"
	b := e.browser()
	p, err := b.Get(t.Context(), e.issuer+"/oauth2/authorize?"+q)
	if err != nil {
		t.Fatal(err)
	}
	res := e.drive(t, b, p, e.client.RedirectURI, flowOpts{user: &e.user})
	e.requireCode(t, res, state)
	tk := requireTokens(t, e.exchange(t, e.client, res.Params.Get("code"), nil))
	e.verifyIDToken(t, e.client.ID, tk.IDToken, nonce, tk.AccessToken)
}

// succeedsWith runs a module whose only check is that an extra parameter
// does not break the happy path.
func succeedsWith(t *testing.T, extra ...string) {
	t.Helper()
	e := newEnv(t, envOptions{})
	e.fullFlow(t, e.client, extra...)
}

func TestOIDCC_display_page(t *testing.T)  { t.Parallel(); succeedsWith(t, "display", "page") }
func TestOIDCC_display_popup(t *testing.T) { t.Parallel(); succeedsWith(t, "display", "popup") }

func TestOIDCC_ensure_request_with_unknown_parameter_succeeds(t *testing.T) {
	t.Parallel()
	succeedsWith(t, "extra", "foobar")
}

// oidcc-ui-locales, oidcc-claims-locales: accepted without error.
func TestOIDCC_ui_locales(t *testing.T)     { t.Parallel(); succeedsWith(t, "ui_locales", "se") }
func TestOIDCC_claims_locales(t *testing.T) { t.Parallel(); succeedsWith(t, "claims_locales", "se") }

// oidcc-ensure-request-with-acr-values-succeeds: acr_values is a voluntary
// request (OIDC Core §3.1.2.1); an acr claim, if returned, is a string.
func TestOIDCC_ensure_request_with_acr_values_succeeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	_, it, _ := e.fullFlow(t, e.client, "acr_values", "1 2")
	if acr, ok := it.Claims["acr"]; ok {
		if _, isStr := acr.(string); !isStr {
			t.Errorf("acr = %v (%T), want a string", acr, acr)
		}
	}
}

// oidcc-login-hint: login_hint is accepted (and may prefill the form).
func TestOIDCC_login_hint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.fullFlow(t, e.client, "login_hint", e.user.Username)
}

// oidcc-prompt-login: a second authorization with prompt=login forces a
// new sign-in although a session exists, and auth_time moves on.
func TestOIDCC_prompt_login(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	_, first, b := e.fullFlow(t, e.client)
	e.clock.Advance(2 * time.Second)
	params := authParams(e.client, "prompt", "login")
	res := e.codeFlowIn(t, b, params, flowOpts{user: &e.user})
	if res.LoginShown != 1 {
		t.Fatalf("prompt=login: sign-in page shown %d times, want 1", res.LoginShown)
	}
	second := e.redeemAndVerify(t, e.client, res, params.Get("nonce"))
	if !second.authTime(t).After(first.authTime(t)) {
		t.Errorf("auth_time %v not after the first sign-in's %v", second.authTime(t), first.authTime(t))
	}
	if second.Subject != first.Subject {
		t.Errorf("sub changed: %q then %q", first.Subject, second.Subject)
	}
}

// oidcc-prompt-none-not-logged-in: prompt=none without a session answers
// login_required at the redirect URI, without showing any page.
func TestOIDCC_prompt_none_not_logged_in(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	params := authParams(e.client, "prompt", "none")
	b := e.browser()
	res := e.drive(t, b, e.authorize(t, b, params), e.client.RedirectURI, flowOpts{noUI: true})
	e.requireRedirectError(t, res, params.Get("state"), "login_required")
}

// oidcc-prompt-none-logged-in: after a sign-in (and consent), prompt=none
// succeeds silently for the same user.
func TestOIDCC_prompt_none_logged_in(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	_, first, b := e.fullFlow(t, e.client)
	params := authParams(e.client, "prompt", "none")
	res := e.codeFlowIn(t, b, params, flowOpts{noUI: true})
	second := e.redeemAndVerify(t, e.client, res, params.Get("nonce"))
	if second.Subject != first.Subject {
		t.Errorf("sub = %q, want %q", second.Subject, first.Subject)
	}
}

// oidcc-max-age-1: max_age=1 after more than a second forces a new
// sign-in; auth_time is present and later (OIDC Core §3.1.2.1).
func TestOIDCC_max_age_1(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	_, first, b := e.fullFlow(t, e.client)
	e.clock.Advance(2 * time.Second)
	params := authParams(e.client, "max_age", "1")
	res := e.codeFlowIn(t, b, params, flowOpts{user: &e.user})
	if res.LoginShown != 1 {
		t.Fatalf("max_age=1: sign-in page shown %d times, want 1", res.LoginShown)
	}
	second := e.redeemAndVerify(t, e.client, res, params.Get("nonce"))
	if !second.authTime(t).After(first.authTime(t)) {
		t.Errorf("auth_time %v not after %v", second.authTime(t), first.authTime(t))
	}
}

// oidcc-max-age-10000: a recent session satisfies max_age=10000: no new
// sign-in, auth_time unchanged.
func TestOIDCC_max_age_10000(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	_, first, b := e.fullFlow(t, e.client)
	e.clock.Advance(2 * time.Second)
	params := authParams(e.client, "max_age", "10000")
	res := e.codeFlowIn(t, b, params, flowOpts{})
	second := e.redeemAndVerify(t, e.client, res, params.Get("nonce"))
	if !second.authTime(t).Equal(first.authTime(t)) {
		t.Errorf("auth_time %v, want the first sign-in's %v", second.authTime(t), first.authTime(t))
	}
}

// oidcc-id-token-hint: prompt=none with the previous ID token as
// id_token_hint succeeds silently for the same subject.
func TestOIDCC_id_token_hint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	tk, first, b := e.fullFlow(t, e.client)
	params := authParams(e.client, "prompt", "none", "id_token_hint", tk.IDToken)
	res := e.codeFlowIn(t, b, params, flowOpts{noUI: true})
	second := e.redeemAndVerify(t, e.client, res, params.Get("nonce"))
	if second.Subject != first.Subject {
		t.Errorf("sub = %q, want %q", second.Subject, first.Subject)
	}
}

// oidcc-codereuse: a second redemption is 400 invalid_grant JSON (the
// module warns on 200). SECURITY.md G1 also requires that the first
// redemption's tokens are revoked.
func TestOIDCC_codereuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	codeReuse(t, e, 0)
}

// oidcc-codereuse-30seconds: the same after 30 seconds, which the
// server's clock is advanced by (server.WithClock) instead of sleeping;
// the access token should then be revoked (module: warning; G1: required).
func TestOIDCC_codereuse_30seconds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	codeReuse(t, e, 30*time.Second)
}

func codeReuse(t *testing.T, e *env, wait time.Duration) {
	t.Helper()
	_, res := e.codeFlow(t, authParams(e.client, "scope", "openid offline_access", "prompt", "consent"))
	code := res.Params.Get("code")
	tk := requireTokens(t, e.exchange(t, e.client, code, nil))
	e.clock.Advance(wait)
	requireOAuthError(t, e.exchange(t, e.client, code, nil), http.StatusBadRequest, "invalid_grant")
	if r := e.userinfo(t, http.MethodGet, tk.AccessToken, false); r.status != http.StatusUnauthorized {
		t.Errorf("G1: UserInfo with the access token of a reused code: %d, want 401", r.status)
	}
	if e.introspect(t, e.client, tk.AccessToken) {
		t.Error("G1: access token of a reused code still introspects active")
	}
	if tk.RefreshToken != "" {
		requireOAuthError(t, e.refresh(t, e.client, tk.RefreshToken, nil), http.StatusBadRequest, "invalid_grant")
	}
}

// oidcc-ensure-registered-redirect-uri: the registered redirect URI plus a
// random suffix gets an error page, never a redirect.
func TestOIDCC_ensure_registered_redirect_uri(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	params := authParams(e.client, "redirect_uri", e.client.RedirectURI+"/"+e2etest.RandomToken(6))
	requireErrorPage(t, e.authorize(t, e.browser(), params), "")
}

// oidcc-ensure-post-request-succeeds: the authorization request as a form
// POST (OIDC Core §3.1.2.1).
func TestOIDCC_ensure_post_request_succeeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	params := authParams(e.client)
	b := e.browser()
	res := e.drive(t, b, e.authorizePost(t, b, params), e.client.RedirectURI, flowOpts{user: &e.user})
	e.requireCode(t, res, params.Get("state"))
	e.redeemAndVerify(t, e.client, res, params.Get("nonce"))
}

// oidcc-server-client-secret-post: the happy path with client_secret_post.
func TestOIDCC_server_client_secret_post(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.fullFlow(t, e.clientPost)
}

// oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported:
// an unsigned request object either works or gets request_not_supported
// (SECURITY.md E9).
func TestOIDCC_unsigned_request_object_supported_correctly_or_rejected_as_unsupported(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	params := authParams(e.client)
	obj := unsignedRequestObject(t, e, params)
	outer := url.Values{"response_type": {"code"}, "client_id": {e.client.ID}, "scope": {"openid"},
		"redirect_uri": {e.client.RedirectURI}, "request": {obj}}
	b := e.browser()
	res := e.drive(t, b, e.authorize(t, b, outer), e.client.RedirectURI, flowOpts{user: &e.user})
	if res.Params.Get("error") != "" {
		d := e.discovery(t)
		if !unsignedRequestObjectsAdvertised(d) && supported(d, "request_parameter_supported") {
			// The module is skipped when request_object_signing_alg_values_supported
			// lacks "none": only signed request objects are accepted
			// (RFC 9101 §10.1, SECURITY.md T9).
			e.requireRedirectError(t, res, "", "invalid_request_object")
			return
		}
		if supported(d, "request_parameter_supported") {
			t.Fatalf("discovery advertises request objects but the request got %q", res.Params.Get("error"))
		}
		e.requireRedirectError(t, res, "", "request_not_supported")
		return
	}
	e.requireCode(t, res, params.Get("state"))
	e.redeemAndVerify(t, e.client, res, params.Get("nonce"))
}

// oidcc-ensure-request-object-with-redirect-uri: redirect_uri only inside
// the request object. The real module is skipped when the server does
// not support request objects; then the request has no verifiable
// redirect URI and must get an error page or request_not_supported.
func TestOIDCC_ensure_request_object_with_redirect_uri(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	params := authParams(e.client)
	obj := unsignedRequestObject(t, e, params)
	outer := url.Values{"response_type": {"code"}, "client_id": {e.client.ID}, "scope": {"openid"}, "request": {obj}}
	b := e.browser()
	p := e.authorize(t, b, outer)
	if d := e.discovery(t); !supported(d, "request_parameter_supported") || !unsignedRequestObjectsAdvertised(d) {
		// Unsupported, or (the module's own skip) only signed request
		// objects: the unsigned object's redirect_uri is never trusted.
		if !p.IsRedirect() {
			requireErrorPage(t, p, "")
			return
		}
		res := e.drive(t, b, p, e.client.RedirectURI, flowOpts{noUI: true})
		e.requireRedirectError(t, res, "", "request_not_supported", "invalid_request", "invalid_request_object")
		return
	}
	res := e.drive(t, b, p, e.client.RedirectURI, flowOpts{user: &e.user})
	e.requireCode(t, res, params.Get("state"))
	e.redeemAndVerify(t, e.client, res, params.Get("nonce"))
}

// oidcc-claims-essential: claims={"userinfo":{"name":{"essential":true}}};
// the module warns when name is absent: the test user has one, so it is
// required here.
func TestOIDCC_claims_essential(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	claims := `{"userinfo":{"name":{"essential":true}}}`
	tk, it, _ := e.fullFlow(t, e.client, "claims", claims)
	r := e.userinfo(t, http.MethodGet, tk.AccessToken, false)
	requireUserinfo(t, r, it.Subject)
	if r.str("name") == "" {
		t.Errorf("essential claim name missing from UserInfo: %s", r.raw)
	}
}

// oidcc-refresh-token: a refresh token (offline_access with
// prompt=consent, OIDC Core §11) works, has legal characters (RFC 6749
// §A.17 VSCHAR), token responses carry no-store, the refreshed ID token
// keeps iss/sub/aud (OIDC Core §12.2), and client2 cannot use it (400
// invalid_grant, SECURITY.md H7).
func TestOIDCC_refresh_token(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	tk, it, _ := e.fullFlow(t, e.client, "scope", "openid offline_access", "prompt", "consent")
	if tk.RefreshToken == "" {
		t.Fatal("no refresh token for scope offline_access with prompt=consent")
	}
	requireVSChars(t, tk.RefreshToken)
	requireOAuthError(t, e.refresh(t, e.client2, tk.RefreshToken, nil), http.StatusBadRequest, "invalid_grant")
	next := requireTokens(t, e.refresh(t, e.client, tk.RefreshToken, nil))
	if next.IDToken != "" {
		it2 := e.verifyIDToken(t, e.client.ID, next.IDToken, "", next.AccessToken)
		if it2.Subject != it.Subject || it2.Issuer != it.Issuer {
			t.Errorf("refreshed ID token sub/iss %q/%q, want %q/%q", it2.Subject, it2.Issuer, it.Subject, it.Issuer)
		}
	}
	requireUserinfo(t, e.userinfo(t, http.MethodGet, next.AccessToken, false), it.Subject)
}

// oidcc-ensure-request-with-valid-pkce-succeeds: S256 PKCE accepted.
func TestOIDCC_ensure_request_with_valid_pkce_succeeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	verifier := newVerifier()
	params := authParams(e.client, "code_challenge", s256(verifier), "code_challenge_method", "S256")
	_, res := e.codeFlow(t, params)
	tk := requireTokens(t, e.exchange(t, e.client, res.Params.Get("code"), url.Values{"code_verifier": {verifier}}))
	e.verifyIDToken(t, e.client.ID, tk.IDToken, params.Get("nonce"), tk.AccessToken)
}

// redeemAndVerify exchanges the code of res and verifies the ID token.
func (e *env) redeemAndVerify(t *testing.T, c clientCreds, res flowResult, nonce string) idToken {
	t.Helper()
	tk := requireTokens(t, e.exchange(t, c, res.Params.Get("code"), nil))
	return e.verifyIDToken(t, c.ID, tk.IDToken, nonce, tk.AccessToken)
}

// requireUserinfo checks a UserInfo response: 200 JSON whose sub equals
// the ID token's (OIDC Core §5.3.2).
func requireUserinfo(t *testing.T, r reply, sub string) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("UserInfo: %d %s", r.status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("UserInfo Content-Type %q", ct)
	}
	if r.str("sub") != sub {
		t.Errorf("UserInfo sub = %q, want the ID token's %q", r.str("sub"), sub)
	}
}

// requireVSChars checks RFC 6749 §A.17: refresh-token = 1*VSCHAR.
func requireVSChars(t *testing.T, s string) {
	t.Helper()
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			t.Fatalf("refresh token has illegal character %q", r)
		}
	}
}

// unsignedRequestObject is params as an unsigned request object (OIDC
// Core §6.1, alg none) with iss and aud.
func unsignedRequestObject(t *testing.T, e *env, params url.Values) string {
	t.Helper()
	claims := map[string]any{"iss": e.client.ID, "aud": e.issuer}
	for k := range params {
		claims[k] = params.Get(k)
	}
	h, _ := json.Marshal(map[string]string{"alg": "none"})
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

func supported(d reply, key string) bool { v, _ := d.json[key].(bool); return v }

// unsignedRequestObjectsAdvertised reports "none" among the request
// object algorithms (OIDC Discovery §3).
func unsignedRequestObjectsAdvertised(d reply) bool {
	algs, _ := d.json["request_object_signing_alg_values_supported"].([]any)
	for _, a := range algs {
		if a == "none" {
			return true
		}
	}
	return false
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
