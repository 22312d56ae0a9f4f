package oidc

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// Documented page contract (docs/authorization-flow.md).
const (
	loginForm     = "login-form"
	loginSubmit   = "login-submit"
	consentForm   = "consent-form"
	consentAllow  = "consent-allow"
	consentDeny   = "consent-deny"
	errorID       = "error"
	errorDescID   = "error-description"
	badLoginText  = "Incorrect username or password."
	maxFlowSteps  = 12
	consentAllowV = "allow"
)

// authParams are the parameters of a conformance authorization request:
// response_type=code, scope openid, fresh state and nonce.
func authParams(c clientCreds, extra ...string) url.Values {
	v := url.Values{
		"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {c.RedirectURI},
		"scope": {"openid"}, "state": {e2etest.RandomToken(12)}, "nonce": {e2etest.RandomToken(12)},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			v.Del(extra[i])
			continue
		}
		v.Set(extra[i], extra[i+1])
	}
	return v
}

// authorize sends the authorization request with GET (OIDC Core §3.1.2.1)
// and returns the first response, unfollowed.
func (e *env) authorize(t *testing.T, b *Browser, params url.Values) *Page {
	t.Helper()
	p, err := b.Get(t.Context(), e.issuer+"/oauth2/authorize?"+params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// authorizePost sends the authorization request as a form POST.
func (e *env) authorizePost(t *testing.T, b *Browser, params url.Values) *Page {
	t.Helper()
	p, err := b.PostForm(t.Context(), e.issuer+"/oauth2/authorize", params)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// flowOpts says how the browser answers the pages it meets.
type flowOpts struct {
	user    *testUser // nil: a login page fails the test
	consent string    // consent-allow (default) or consent-deny
	noUI    bool      // any login or consent page fails the test (prompt=none)
}

// flowResult is where the flow ended.
type flowResult struct {
	Callback      *url.URL   // the redirect to the client's redirect_uri
	Params        url.Values // its response parameters (query, fragment or form_post)
	Status        int        // status of the final redirect (302/303) or form_post page (200)
	LoginShown    int        // how many login pages were answered
	ConsentShown  int
	Pages         []*Page // every page seen, in order
	FormPost      bool
	RedirectFinal *Page
}

// drive follows the flow from the authorization endpoint's response until
// the browser is sent to redirectURI, answering the sign-in and consent
// pages as opts says.
func (e *env) drive(t *testing.T, b *Browser, p *Page, redirectURI string, opts flowOpts) flowResult {
	t.Helper()
	var res flowResult
	for range maxFlowSteps {
		res.Pages = append(res.Pages, p)
		if done := e.finished(t, p, redirectURI, &res); done {
			return res
		}
		p = e.step(t, b, p, opts, &res)
	}
	t.Fatalf("flow did not reach %s within %d steps; last page %s %d:\n%s", redirectURI, maxFlowSteps, p.URL, p.Status, clip(p.Body))
	return res
}

// finished reports whether p delivers the authorization response.
func (e *env) finished(t *testing.T, p *Page, redirectURI string, res *flowResult) bool {
	t.Helper()
	if p.IsRedirect() {
		loc, _ := p.Location()
		if !sameEndpoint(loc, redirectURI) {
			return false
		}
		res.Callback, res.Status, res.RedirectFinal = loc, p.Status, p
		res.Params = loc.Query()
		if loc.Fragment != "" {
			res.Params, _ = url.ParseQuery(loc.Fragment)
		}
		return true
	}
	if f := formPostTo(p, redirectURI); f != nil {
		res.Callback, res.Status, res.FormPost, res.RedirectFinal = f.Action, p.Status, true, p
		res.Params, _ = f.Values("")
		return true
	}
	return false
}

// sameEndpoint compares scheme, host and path of a Location with a
// redirect URI, ignoring the response parameters.
func sameEndpoint(loc *url.URL, redirectURI string) bool {
	r, err := url.Parse(redirectURI)
	if err != nil {
		return false
	}
	return loc.Scheme == r.Scheme && loc.Host == r.Host && loc.Path == r.Path
}

// formPostTo returns the page's form posting to redirectURI (OAuth 2.0
// Form Post Response Mode §2), or nil.
func formPostTo(p *Page, redirectURI string) *Form {
	if p.Status != http.StatusOK {
		return nil
	}
	forms, err := p.Forms()
	if err != nil {
		return nil
	}
	for _, f := range forms {
		if f.Method == http.MethodPost && sameEndpoint(f.Action, redirectURI) {
			return f
		}
	}
	return nil
}

// step answers one page: follows a redirect, signs in, or consents.
func (e *env) step(t *testing.T, b *Browser, p *Page, opts flowOpts, res *flowResult) *Page {
	t.Helper()
	switch {
	case p.IsRedirect():
		next, err := b.Follow(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		return next
	case p.HasForm(loginForm):
		if opts.user == nil || opts.noUI {
			t.Fatalf("unexpected sign-in page at %s", p.URL)
		}
		res.LoginShown++
		return e.submitLogin(t, b, p, opts.user.Username, opts.user.Password)
	case p.HasForm(consentForm):
		if opts.noUI {
			t.Fatalf("unexpected consent page at %s", p.URL)
		}
		res.ConsentShown++
		button := opts.consent
		if button == "" {
			button = consentAllow
		}
		return submit(t, b, p, consentForm, button, nil)
	}
	msg, _ := p.TextByID(errorID)
	desc, _ := p.TextByID(errorDescID)
	t.Fatalf("flow stopped at %s %s: status %d, error %q %q\n%s", p.Method, p.URL.Redacted(), p.Status, msg, desc, clip(p.Body))
	return nil
}

// submitLogin fills the documented sign-in form and submits it.
func (e *env) submitLogin(t *testing.T, b *Browser, p *Page, username, pw string) *Page {
	t.Helper()
	return submit(t, b, p, loginForm, loginSubmit, map[string]string{"username": username, "password": pw})
}

// submit fills the fields of form id on p and clicks button.
func submit(t *testing.T, b *Browser, p *Page, formID, button string, fields map[string]string) *Page {
	t.Helper()
	f, err := p.Form(formID)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		if err := f.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	next, err := b.Submit(t.Context(), f, button)
	if err != nil {
		t.Fatal(err)
	}
	return next
}

// codeFlow runs a full authorization with a fresh browser as the env's
// user and returns the browser (signed in) and the result. It requires a
// successful authorization response.
func (e *env) codeFlow(t *testing.T, params url.Values) (*Browser, flowResult) {
	t.Helper()
	b := e.browser()
	res := e.codeFlowIn(t, b, params, flowOpts{user: &e.user})
	return b, res
}

// codeFlowIn runs an authorization in browser b and requires a code, the
// state echoed and iss (RFC 9207 §2).
func (e *env) codeFlowIn(t *testing.T, b *Browser, params url.Values, opts flowOpts) flowResult {
	t.Helper()
	res := e.drive(t, b, e.authorize(t, b, params), params.Get("redirect_uri"), opts)
	e.requireCode(t, res, params.Get("state"))
	return res
}

func (e *env) requireCode(t *testing.T, res flowResult, state string) {
	t.Helper()
	if res.Params.Get("error") != "" {
		t.Fatalf("authorization error %q: %q", res.Params.Get("error"), res.Params.Get("error_description"))
	}
	if res.Params.Get("code") == "" {
		t.Fatalf("authorization response without code: %s", res.Callback)
	}
	e.secrets.Add(res.Params.Get("code"))
	if got := res.Params.Get("state"); got != state {
		t.Errorf("state = %q, want %q", got, state)
	}
	if got := res.Params.Get("iss"); got != e.issuer {
		t.Errorf("E6 iss = %q, want %q (RFC 9207)", got, e.issuer)
	}
	if res.Status == http.StatusTemporaryRedirect || res.Status == http.StatusPermanentRedirect {
		t.Errorf("E11 authorization response with %d", res.Status)
	}
}

// requireRedirectError requires an error authorization response with the
// code, state echoed and iss (SECURITY.md E5, E6).
func (e *env) requireRedirectError(t *testing.T, res flowResult, state string, codes ...string) {
	t.Helper()
	got := res.Params.Get("error")
	ok := false
	for _, c := range codes {
		ok = ok || got == c
	}
	if !ok {
		t.Errorf("error = %q (%q), want one of %v", got, res.Params.Get("error_description"), codes)
	}
	if res.Params.Get("code") != "" {
		t.Errorf("error response also carries a code")
	}
	if state != "" && res.Params.Get("state") != state {
		t.Errorf("E5 state = %q, want %q", res.Params.Get("state"), state)
	}
	if res.Params.Get("iss") != e.issuer {
		t.Errorf("E6 iss = %q, want %q", res.Params.Get("iss"), e.issuer)
	}
}

// requireErrorPage requires the documented error page: 400, HTML, an
// element id="error" and no redirect anywhere (SECURITY.md E1, E4).
func requireErrorPage(t *testing.T, p *Page, wantCode string) {
	t.Helper()
	if p.IsRedirect() || p.Header.Get("Location") != "" {
		t.Fatalf("redirected to %q, want an error page (never redirect to an unverified URI)", p.Header.Get("Location"))
	}
	if p.Status != http.StatusBadRequest {
		t.Errorf("error page status %d, want 400", p.Status)
	}
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("error page Content-Type %q, want text/html", ct)
	}
	code, ok := p.TextByID(errorID)
	if !ok {
		t.Fatalf("error page without id=%q:\n%s", errorID, clip(p.Body))
	}
	if wantCode != "" && code != wantCode {
		t.Errorf("error page code %q, want %q", code, wantCode)
	}
}

// tokens are the parts of a successful token response we check.
type tokens struct {
	AccessToken, RefreshToken, IDToken, TokenType, Scope string
	ExpiresIn                                            float64
}

// requireTokens requires a 200 token response with the RFC 6749 §5.1
// members and cache headers (SECURITY.md G9).
func requireTokens(t *testing.T, r reply) tokens {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("token response %d, want 200: %s", r.status, r.raw)
	}
	requireNoStore(t, r.header)
	tk := tokens{AccessToken: r.str("access_token"), RefreshToken: r.str("refresh_token"), IDToken: r.str("id_token"),
		TokenType: r.str("token_type"), Scope: r.str("scope")}
	tk.ExpiresIn, _ = r.json["expires_in"].(float64)
	if tk.AccessToken == "" || !strings.EqualFold(tk.TokenType, "Bearer") || tk.ExpiresIn <= 0 {
		t.Errorf("token response lacks access_token/token_type Bearer/expires_in: %s", r.raw)
	}
	return tk
}

// requireNoStore checks G9: Cache-Control: no-store (+ Pragma: no-cache).
func requireNoStore(t *testing.T, h http.Header) {
	t.Helper()
	if !strings.Contains(h.Get("Cache-Control"), "no-store") {
		t.Errorf("G9 Cache-Control = %q, want no-store", h.Get("Cache-Control"))
	}
	if h.Get("Pragma") != "no-cache" {
		t.Errorf("G9 Pragma = %q, want no-cache", h.Get("Pragma"))
	}
}

// requireOAuthError checks a JSON error response (RFC 6749 §5.2).
func requireOAuthError(t *testing.T, r reply, status int, code string) {
	t.Helper()
	if r.status != status || r.str("error") != code {
		t.Fatalf("got %d %s, want %d %s", r.status, r.raw, status, code)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type %q, want application/json", ct)
	}
	requireNoStore(t, r.header)
}

// idToken is a verified ID token and its claims.
type idToken struct {
	*gooidc.IDToken
	Claims map[string]any
}

// verifyIDToken verifies raw with go-oidc against discovery and the JWKS
// (signature RS256, iss, aud, exp), then the OIDC Core §3.1.3.7 checks
// go-oidc leaves to the caller: nonce, azp, iat, at_hash.
func (e *env) verifyIDToken(t *testing.T, clientID, raw, nonce, accessToken string) idToken {
	t.Helper()
	ctx := gooidc.ClientContext(t.Context(), &http.Client{Transport: e.transport(), Timeout: 10 * time.Second})
	provider, err := gooidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	v := provider.Verifier(&gooidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{"RS256"}, Now: e.clock.Now})
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if kid := jwtHeader(t, raw)["kid"]; kid == nil || kid == "" {
		t.Error("ID token header has no kid")
	}
	if nonce != "" && tok.Nonce != nonce {
		t.Errorf("nonce = %q, want %q", tok.Nonce, nonce)
	}
	if nonce == "" && claims["nonce"] != nil {
		t.Errorf("nonce %v in ID token of a request without nonce", claims["nonce"])
	}
	if len(tok.Audience) > 1 && claims["azp"] != clientID {
		t.Errorf("azp = %v with several audiences", claims["azp"])
	}
	if tok.Subject == "" || tok.IssuedAt.IsZero() {
		t.Errorf("sub %q / iat %v missing", tok.Subject, tok.IssuedAt)
	}
	if accessToken != "" {
		if tok.AccessTokenHash == "" {
			t.Error("ID token from the token endpoint without at_hash")
		} else if err := tok.VerifyAccessToken(accessToken); err != nil {
			t.Errorf("at_hash: %v", err)
		}
	}
	return idToken{IDToken: tok, Claims: claims}
}

// authTime returns the auth_time claim (OIDC Core §2).
func (it idToken) authTime(t *testing.T) time.Time {
	t.Helper()
	v, ok := it.Claims["auth_time"].(float64)
	if !ok {
		t.Fatalf("ID token has no numeric auth_time: %v", it.Claims["auth_time"])
	}
	return time.Unix(int64(v), 0)
}

func jwtHeader(t *testing.T, raw string) map[string]any {
	t.Helper()
	part, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	return h
}

// s256 is the PKCE S256 challenge of verifier (RFC 7636 §4.2).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// newVerifier is a 43-character PKCE code verifier (RFC 7636 §4.1).
func newVerifier() string { return e2etest.RandomToken(32) }

// fullFlow runs authorization and code exchange for c and returns the
// tokens and the verified ID token.
func (e *env) fullFlow(t *testing.T, c clientCreds, extra ...string) (tokens, idToken, *Browser) {
	t.Helper()
	params := authParams(c, extra...)
	b, res := e.codeFlow(t, params)
	tk := requireTokens(t, e.exchange(t, c, res.Params.Get("code"), nil))
	it := e.verifyIDToken(t, c.ID, tk.IDToken, params.Get("nonce"), tk.AccessToken)
	return tk, it, b
}

// dialTransport sends every connection to addr whatever the URL's host,
// like a load balancer in front of one process: the processes of a
// multi-process test share one public base URL.
func dialTransport(addr string, tlsConf *tls.Config) http.RoundTripper {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	tr.TLSClientConfig = tlsConf
	return tr
}

func clip(b []byte) string {
	const n = 2000
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
