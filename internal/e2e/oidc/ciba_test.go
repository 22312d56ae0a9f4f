package oidc

// OpenID Connect Client-Initiated Backchannel Authentication (CIBA Core
// 1.0) end to end against a real server: poll mode with approval on the
// account page (an HTTP browser with cookies), ping mode with an in-test
// notification receiver, denial, expiry, slow_down, the emailed one-time
// link, the §13 error table, and one token per auth_req_id across two
// processes on one PostgreSQL.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

const grantCIBA = "urn:openid:params:grant-type:ciba"

// cibaClient registers a confidential client with the CIBA grant (and
// refresh tokens) in mode; no client has the grant unless an
// administrator gives it.
func (e *env) cibaClient(t *testing.T, id, mode, notify string) clientCreds {
	t.Helper()
	extra := map[string]any{"name": "Call centre", "grant_types": []string{grantCIBA, "refresh_token"},
		"response_types": []string{}, "redirect_uris": []string{}, "backchannel_token_delivery_mode": mode}
	if notify != "" {
		extra["backchannel_client_notification_endpoint"] = notify
	}
	return e.createClient(t, testWS, clientSpec{ID: id, RedirectURIs: []string{"http://unused.invalid/cb"}, Extra: extra})
}

// bcAuthorize makes a backchannel authentication request.
func (e *env) bcAuthorize(t *testing.T, c clientCreds, form url.Values) reply {
	t.Helper()
	r := e.postForm(t, "/oauth2/bc-authorize", c, form)
	if id := r.str("auth_req_id"); id != "" {
		e.secrets.Add(id)
	}
	return r
}

func (e *env) startCIBA(t *testing.T, c clientCreds, extra ...string) string {
	t.Helper()
	form := url.Values{"scope": {"openid profile offline_access"}, "login_hint": {e.user.Username}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	r := e.bcAuthorize(t, c, form)
	if r.status != http.StatusOK {
		t.Fatalf("bc-authorize: %d %s", r.status, r.raw)
	}
	if r.json["expires_in"] == nil || r.json["interval"] != float64(5) {
		t.Fatalf("bc-authorize response %s", r.raw)
	}
	requireNoStore(t, r.header)
	return r.str("auth_req_id")
}

func (e *env) cibaPoll(t *testing.T, c clientCreds, id string) reply {
	t.Helper()
	return e.postForm(t, "/oauth2/token", c, url.Values{"grant_type": {grantCIBA}, "auth_req_id": {id}})
}

// signedInBrowser signs the test user in through the account page.
func (e *env) signedInBrowser(t *testing.T) *Browser {
	t.Helper()
	ctx := t.Context()
	b := NewBrowser(e.transport())
	p, err := b.Get(ctx, e.issuer+"/account")
	must(t, err)
	if p, err = b.FollowRedirects(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	login, err := p.Form("login-form")
	must(t, err)
	must(t, login.Set("username", e.user.Username))
	must(t, login.Set("password", e.user.Password))
	if p, err = b.Submit(ctx, login, "login-submit"); err != nil {
		t.Fatal(err)
	}
	if _, err = b.FollowRedirects(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	return b
}

// decideOn finds the one pending request on page (the account page or
// the approval page), checks what it shows, and posts action.
func (e *env) decideOn(t *testing.T, b *Browser, pageURL, action, wantBinding string) *Page {
	t.Helper()
	ctx := t.Context()
	p, err := b.Get(ctx, pageURL)
	must(t, err)
	if p.Status != http.StatusOK {
		t.Fatalf("%s: %d %s", pageURL, p.Status, clip(p.Body))
	}
	body := string(p.Body)
	if !strings.Contains(body, "Call centre") || (wantBinding != "" && !strings.Contains(body, wantBinding)) ||
		!strings.Contains(body, `data-scope="openid"`) {
		t.Fatalf("request not shown with client, binding message and scopes:\n%s", clip(p.Body))
	}
	forms, err := p.Forms()
	must(t, err)
	var vals url.Values
	for _, f := range forms {
		if f.Has("request") {
			vals = url.Values{"csrf_token": {f.Get("csrf_token")}, "request": {f.Get("request")}, "action": {action}}
			break
		}
	}
	if vals == nil {
		t.Fatalf("no decision form on %s", pageURL)
	}
	out, err := b.PostForm(ctx, e.issuer+"/ciba", vals)
	must(t, err)
	return out
}

// TestCIBAPoll is poll mode on SQLite and PostgreSQL: the client starts a
// request for the user, polls (authorization_pending, then slow_down for
// polling too fast), the signed-in user approves on the account page
// seeing the client, the scopes and the binding message, and the next
// poll gets an access token, a refresh token and an ID token that go-oidc
// verifies. The auth_req_id is then spent, and another client's poll of
// it is invalid_grant.
func TestCIBAPoll(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, e *env) {
		c := e.cibaClient(t, "callcentre", "poll", "")
		other := e.cibaClient(t, "other-rp", "poll", "")
		id := e.startCIBA(t, c, "binding_message", "W4SCT 7 <b>x</b>")
		requireOAuthError(t, e.cibaPoll(t, c, id), http.StatusBadRequest, "authorization_pending")
		requireOAuthError(t, e.cibaPoll(t, c, id), http.StatusBadRequest, "slow_down")
		requireOAuthError(t, e.cibaPoll(t, other, id), http.StatusBadRequest, "invalid_grant")
		b := e.signedInBrowser(t)
		// The binding message is shown escaped, identical to the request.
		if p := e.decideOn(t, b, e.issuer+"/account", "approve", "W4SCT 7 &lt;b&gt;x&lt;/b&gt;"); p.Status != http.StatusOK {
			t.Fatalf("approval: %d %s", p.Status, clip(p.Body))
		}
		e.clock.Advance(11 * time.Second) // past the raised interval
		r := e.cibaPoll(t, c, id)
		tok := requireTokens(t, r)
		e.secrets.AddToken(tok.AccessToken)
		e.secrets.Add(tok.RefreshToken)
		e.secrets.AddToken(tok.IDToken)
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token with offline_access")
		}
		it := e.verifyIDToken(t, c.ID, tok.IDToken, "", tok.AccessToken)
		if it.Subject != e.user.ID {
			t.Fatalf("ID token sub %q, want %q", it.Subject, e.user.ID)
		}
		requireOAuthError(t, e.cibaPoll(t, c, id), http.StatusBadRequest, "invalid_grant")
	})
}

// TestCIBADenyExpire: a denial on the approval page gives access_denied;
// a request left alone past its requested_expiry gives expired_token.
func TestCIBADenyExpire(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.cibaClient(t, "callcentre", "poll", "")
	id := e.startCIBA(t, c)
	b := e.signedInBrowser(t)
	if p := e.decideOn(t, b, e.issuer+"/ciba", "deny", ""); p.Status != http.StatusOK {
		t.Fatalf("denial: %d %s", p.Status, clip(p.Body))
	}
	requireOAuthError(t, e.cibaPoll(t, c, id), http.StatusBadRequest, "access_denied")

	r := e.bcAuthorize(t, c, url.Values{"scope": {"openid"}, "login_hint": {e.user.Email}, "requested_expiry": {"60"}})
	if r.status != http.StatusOK || r.json["expires_in"] != float64(60) {
		t.Fatalf("requested_expiry 60: %d %s", r.status, r.raw)
	}
	e.clock.Advance(61 * time.Second)
	requireOAuthError(t, e.cibaPoll(t, c, r.str("auth_req_id")), http.StatusBadRequest, "expired_token")
}

// pingReceiver is the client's notification endpoint (CIBA Core §10.2).
type pingReceiver struct {
	mu    sync.Mutex
	auth  []string
	ids   []string
	ctype []string
}

func newPingReceiver(t *testing.T) (*pingReceiver, string) {
	pr := &pingReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]string
		_ = json.Unmarshal(raw, &body)
		pr.mu.Lock()
		pr.auth = append(pr.auth, r.Header.Get("Authorization"))
		pr.ids = append(pr.ids, body["auth_req_id"])
		pr.ctype = append(pr.ctype, r.Header.Get("Content-Type"))
		pr.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return pr, srv.URL + "/cb"
}

func (pr *pingReceiver) wait(t *testing.T) (auth, id, ctype string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		pr.mu.Lock()
		if len(pr.ids) > 0 {
			defer pr.mu.Unlock()
			return pr.auth[0], pr.ids[0], pr.ctype[0]
		}
		pr.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no ping notification arrived")
	return "", "", ""
}

var outboundToLoopback = map[string]string{
	"LATCHKEY_OUTBOUND_ALLOW_PRIVATE_ADDRESSES": "true",
	"LATCHKEY_OUTBOUND_ALLOW_HTTP":              "true",
}

// TestCIBAPing is ping mode: client_notification_token is required; after
// the user approves, the client's endpoint receives {"auth_req_id"} as
// JSON with the token as bearer token (through the SSRF-safe client, here
// allowed to loopback http by the test configuration), and the client's
// token request then gets tokens.
func TestCIBAPing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{env: outboundToLoopback})
	pr, endpoint := newPingReceiver(t)
	c := e.cibaClient(t, "pinged", "ping", endpoint)
	r := e.bcAuthorize(t, c, url.Values{"scope": {"openid"}, "login_hint": {e.user.Username}})
	requireOAuthError(t, r, http.StatusBadRequest, "invalid_request")
	notifyToken := "nt-" + e2etest.RandomToken(24)
	e.secrets.Add(notifyToken)
	id := e.startCIBA(t, c, "client_notification_token", notifyToken)
	b := e.signedInBrowser(t)
	if p := e.decideOn(t, b, e.issuer+"/ciba", "approve", ""); p.Status != http.StatusOK {
		t.Fatalf("approval: %d %s", p.Status, clip(p.Body))
	}
	auth, got, ctype := pr.wait(t)
	if auth != "Bearer "+notifyToken || got != id || !strings.HasPrefix(ctype, "application/json") {
		t.Fatalf("ping: Authorization %q, auth_req_id match %v, Content-Type %q", auth, got == id, ctype)
	}
	tok := requireTokens(t, e.cibaPoll(t, c, id))
	e.secrets.AddToken(tok.AccessToken)
	e.secrets.Add(tok.RefreshToken)
	e.secrets.AddToken(tok.IDToken)
	e.verifyIDToken(t, c.ID, tok.IDToken, "", tok.AccessToken)
}

// TestCIBAEmailLink: the request e-mails the user a one-time link; a
// browser that is not signed in opens it (a GET changes nothing), posts
// its form, is signed in and sees the request in the workspace's pages;
// approving it lets the client poll tokens. The link works once.
func TestCIBAEmailLink(t *testing.T) {
	t.Parallel()
	box := e2etest.StartMailbox(t)
	e := newEnv(t, envOptions{env: box.Env()})
	c := e.cibaClient(t, "callcentre", "poll", "")
	id := e.startCIBA(t, c, "binding_message", "Order 1234")
	m := box.WaitFor(t, regexp.MustCompile(`(https?://\S+/ciba\?link=([A-Za-z0-9_-]+))`))
	link := m[1]
	e.secrets.Add(m[2])
	if !strings.Contains(box.Last(), "Order 1234") {
		t.Fatal("mail without the binding message")
	}
	ctx := t.Context()
	b := NewBrowser(e.transport())
	open := func() *Page {
		p, err := b.Get(ctx, link)
		must(t, err)
		f, err := p.Form("ciba-link-form")
		if err != nil {
			t.Fatalf("link page: %v\n%s", err, clip(p.Body))
		}
		p, err = b.Submit(ctx, f, "ciba-link-submit")
		must(t, err)
		return p
	}
	p := open()
	if !p.IsRedirect() {
		t.Fatalf("link use: %d %s", p.Status, clip(p.Body))
	}
	if p := e.decideOn(t, b, e.issuer+"/ciba", "approve", "Order 1234"); p.Status != http.StatusOK {
		t.Fatalf("approval: %d %s", p.Status, clip(p.Body))
	}
	tok := requireTokens(t, e.cibaPoll(t, c, id))
	e.secrets.AddToken(tok.AccessToken)
	e.secrets.Add(tok.RefreshToken)
	e.secrets.AddToken(tok.IDToken)
	if p := open(); p.Status != http.StatusBadRequest {
		t.Fatalf("second use of the link: %d", p.Status)
	}
}

// TestCIBAErrors is the error table of CIBA Core §13 and §11.
func TestCIBAErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.cibaClient(t, "callcentre", "poll", "")
	plain := e.client // a confidential client without the CIBA grant
	long := strings.Repeat("x", 65)
	cases := []struct {
		name   string
		client clientCreds
		form   url.Values
		status int
		code   string
	}{
		{"no grant", plain, url.Values{"scope": {"openid"}, "login_hint": {e.user.Username}}, 400, "unauthorized_client"},
		{"bad secret", clientCreds{ID: c.ID, Secret: "wrong", AuthMethod: c.AuthMethod}, url.Values{"scope": {"openid"}, "login_hint": {e.user.Username}}, 401, "invalid_client"},
		{"no openid", c, url.Values{"scope": {"profile"}, "login_hint": {e.user.Username}}, 400, "invalid_request"},
		{"unknown scope", c, url.Values{"scope": {"openid nope"}, "login_hint": {e.user.Username}}, 400, "invalid_scope"},
		{"no hint", c, url.Values{"scope": {"openid"}}, 400, "invalid_request"},
		{"two hints", c, url.Values{"scope": {"openid"}, "login_hint": {e.user.Username}, "id_token_hint": {"a.b.c"}}, 400, "invalid_request"},
		{"login_hint_token", c, url.Values{"scope": {"openid"}, "login_hint_token": {"eyJ.x.y"}}, 400, "invalid_request"},
		{"unknown user", c, url.Values{"scope": {"openid"}, "login_hint": {"nobody"}}, 400, "unknown_user_id"},
		{"bad id_token_hint", c, url.Values{"scope": {"openid"}, "id_token_hint": {"a.b.c"}}, 400, "invalid_request"},
		{"long binding", c, url.Values{"scope": {"openid"}, "login_hint": {e.user.Username}, "binding_message": {long}}, 400, "invalid_binding_message"},
		{"control binding", c, url.Values{"scope": {"openid"}, "login_hint": {e.user.Username}, "binding_message": {"a\nb"}}, 400, "invalid_binding_message"},
		{"expiry zero", c, url.Values{"scope": {"openid"}, "login_hint": {e.user.Username}, "requested_expiry": {"0"}}, 400, "invalid_request"},
		{"expiry negative", c, url.Values{"scope": {"openid"}, "login_hint": {e.user.Username}, "requested_expiry": {"-1"}}, 400, "invalid_request"},
		{"expiry not a number", c, url.Values{"scope": {"openid"}, "login_hint": {e.user.Username}, "requested_expiry": {"abc"}}, 400, "invalid_request"},
		{"1 KiB login_hint", c, url.Values{"scope": {"openid"}, "login_hint": {strings.Repeat("a", 1024)}}, 400, "invalid_request"},
		{"ping token on a poll client is ignored, long binding is not", c, url.Values{"scope": {"openid"}, "login_hint": {e.user.Username},
			"client_notification_token": {"x"}, "binding_message": {strings.Repeat("y", 1024)}}, 400, "invalid_binding_message"},
		{"user_code", c, url.Values{"scope": {"openid"}, "login_hint": {e.user.Username}, "user_code": {"1234"}}, 400, "invalid_request"},
		{"signed request", c, url.Values{"scope": {"openid"}, "request": {"eyJ.x.y"}}, 400, "invalid_request"},
		{"duplicate parameter", c, url.Values{"scope": {"openid", "openid"}, "login_hint": {e.user.Username}}, 400, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.bcAuthorize(t, tc.client, tc.form)
			requireOAuthError(t, r, tc.status, tc.code)
			if r.str("error_description") == "" {
				t.Fatal("no error_description")
			}
		})
	}
	// An id_token_hint we issued to this client names its user.
	tok, _, _ := e.fullFlow(t, e.client)
	e.secrets.AddToken(tok.IDToken)
	r := e.bcAuthorize(t, c, url.Values{"scope": {"openid"}, "id_token_hint": {tok.IDToken}})
	requireOAuthError(t, r, http.StatusBadRequest, "invalid_request") // issued to another client
	// (A second client from here: the error table above spent most of
	// the first client's own budget of 20.)
	flood := e.cibaClient(t, "flood", "poll", "")
	// A requested_expiry above the maximum is lowered and reported (§7.3).
	r = e.bcAuthorize(t, flood, url.Values{"scope": {"openid"}, "login_hint": {e.user.Username}, "requested_expiry": {"1000000000"}})
	if r.status != http.StatusOK || r.json["expires_in"] != float64(900) {
		t.Fatalf("requested_expiry 10^9: %d %s", r.status, r.raw)
	}
	// Push-notification fatigue (§14): the user gets at most 5 requests
	// at once, then 429 access_denied with Retry-After.
	throttled := 0
	for range 10 {
		r := e.bcAuthorize(t, flood, url.Values{"scope": {"openid"}, "login_hint": {e.user.Username}})
		if r.status == http.StatusTooManyRequests && r.str("error") == "access_denied" && r.header.Get("Retry-After") != "" {
			throttled++
		}
	}
	if throttled < 5 {
		t.Fatalf("%d of 10 further requests for one user throttled, want at least 5", throttled)
	}
	// Token endpoint: unknown and malformed auth_req_id.
	requireOAuthError(t, e.cibaPoll(t, c, "lkbc_unknown"), http.StatusBadRequest, "invalid_grant")
	requireOAuthError(t, e.cibaPoll(t, c, "nope"), http.StatusBadRequest, "invalid_grant")
	requireOAuthError(t, e.postForm(t, "/oauth2/token", c, url.Values{"grant_type": {grantCIBA}}), http.StatusBadRequest, "invalid_request")
	// Discovery advertises exactly what is implemented.
	d := e.get(t, e.issuer+"/.well-known/openid-configuration", nil)
	if d.str("backchannel_authentication_endpoint") != e.issuer+"/oauth2/bc-authorize" ||
		d.json["backchannel_user_code_parameter_supported"] != false ||
		!strings.Contains(string(d.raw), `"backchannel_token_delivery_modes_supported":["poll","ping"]`) ||
		!strings.Contains(string(d.raw), grantCIBA) || strings.Contains(string(d.raw), "backchannel_authentication_request_signing_alg") {
		t.Fatalf("discovery: %s", d.raw)
	}
}

// TestCIBATwoProcesses: two `latchkey serve` processes on one PostgreSQL
// share the polling state (slow_down across processes) and issue exactly
// one token response when 20 pollers race after the approval.
func TestCIBATwoProcesses(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutPostgres(t, "multi-process test")
	dsn := postgresSchemaDSN(t)
	cl := newCluster(t)
	p1 := cl.start(t, "process 1", "--storage", dsn, "--data-dir", t.TempDir())
	p2 := cl.start(t, "process 2", "--storage", dsn, "--data-dir", t.TempDir())
	p1.setup(t)
	p2.adoptSetup(p1)
	c := p1.cibaClient(t, "callcentre", "poll", "")
	time.Sleep(300 * time.Millisecond) // let process 2's cache see the new client
	id := p1.startCIBA(t, c)
	poll := func(e *env) reply { return e.cibaPoll(t, c, id) }
	requireOAuthError(t, poll(p1), http.StatusBadRequest, "authorization_pending")
	requireOAuthError(t, poll(p2), http.StatusBadRequest, "slow_down")
	b := p2.signedInBrowser(t)
	if p := p2.decideOn(t, b, p2.issuer+"/ciba", "approve", ""); p.Status != http.StatusOK {
		t.Fatalf("approval: %d %s", p.Status, clip(p.Body))
	}
	replies := parallel(20, func(i int) reply { return poll([]*env{p1, p2}[i%2]) })
	if ok := countWinners(t, "CIBA auth_req_id", replies); ok != 1 {
		t.Fatalf("%d of 20 parallel polls after approval got tokens, want exactly 1", ok)
	}
	requireOAuthError(t, poll(p2), http.StatusBadRequest, "invalid_grant")
	cl.stopAll(t)
}

// TestCIBAClientSettings: the admin API validates the CIBA client
// metadata (CIBA Core §4) and shows it; an id_token_hint issued to the
// client names its user.
func TestCIBAClientSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ws := "/workspaces/" + testWS + "/clients"
	bad := []struct {
		name  string
		extra map[string]any
		field string
	}{
		{"push mode", map[string]any{"grant_types": []string{grantCIBA}, "backchannel_token_delivery_mode": "push"}, "backchannel_token_delivery_mode"},
		{"ping without endpoint", map[string]any{"grant_types": []string{grantCIBA}, "backchannel_token_delivery_mode": "ping"}, "backchannel_client_notification_endpoint"},
		{"endpoint in poll mode", map[string]any{"grant_types": []string{grantCIBA}, "backchannel_token_delivery_mode": "poll",
			"backchannel_client_notification_endpoint": "https://rp.example.com/cb"}, "backchannel_client_notification_endpoint"},
		{"private endpoint", map[string]any{"grant_types": []string{grantCIBA}, "backchannel_token_delivery_mode": "ping",
			"backchannel_client_notification_endpoint": "https://127.0.0.1/cb"}, "backchannel_client_notification_endpoint"},
		{"user code", map[string]any{"grant_types": []string{grantCIBA}, "backchannel_token_delivery_mode": "poll", "backchannel_user_code_parameter": true}, "backchannel_user_code_parameter"},
		{"public client", map[string]any{"grant_types": []string{grantCIBA}, "type": "public", "token_endpoint_auth_method": "none",
			"backchannel_token_delivery_mode": "poll"}, "grant_types"},
	}
	for i, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			extra := map[string]any{"response_types": []string{}, "redirect_uris": []string{}}
			for k, v := range tc.extra {
				extra[k] = v
			}
			spec := clientSpec{ID: "bad" + string(rune('a'+i)), RedirectURIs: []string{"http://unused.invalid/cb"}, Extra: extra}
			r := e.adminRaw(t, http.MethodPost, ws, spec.body())
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), tc.field) {
				t.Fatalf("%s: %d %s, want 400 naming %s", tc.name, r.status, r.raw, tc.field)
			}
		})
	}
	// A client of both flows: its ID token is a valid id_token_hint.
	c := e.createClient(t, testWS, clientSpec{ID: "both", RedirectURIs: []string{rpRedirect}, Extra: map[string]any{
		"grant_types": []string{"authorization_code", grantCIBA}, "backchannel_token_delivery_mode": "poll"}})
	view := e.adminRaw(t, http.MethodGet, ws+"/both", nil)
	if view.str("backchannel_token_delivery_mode") != "poll" {
		t.Fatalf("client view: %s", view.raw)
	}
	tok, _, _ := e.fullFlow(t, c)
	e.secrets.AddToken(tok.AccessToken)
	e.secrets.AddToken(tok.IDToken)
	r := e.bcAuthorize(t, c, url.Values{"scope": {"openid"}, "id_token_hint": {tok.IDToken}})
	if r.status != http.StatusOK {
		t.Fatalf("bc-authorize with id_token_hint: %d %s", r.status, r.raw)
	}
}
