package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/net/html"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
	e2eoidc "github.com/latchkey/latchkey/internal/e2e/oidc"
)

// Back-channel and front-channel logout (OpenID Connect Back-Channel
// Logout 1.0, Front-Channel Logout 1.0) against real servers: an in-test
// receiver on loopback takes the logout tokens, so the servers are
// configured to send to private addresses over http.

// logoutOutboundEnv lets the server POST to the loopback receiver.
var logoutOutboundEnv = map[string]string{
	"LATCHKEY_OUTBOUND_ALLOW_PRIVATE_ADDRESSES": "true",
	"LATCHKEY_OUTBOUND_ALLOW_HTTP":              "true",
}

const logoutCallback = "https://rp.example.test/cb"

// logoutReceiver is a relying party's back-channel logout endpoint: it
// records every POST per path and answers failures while told to.
type logoutReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	// got holds the logout tokens received per path, failed ones
	// included; ok those answered 200.
	got, ok map[string][]string
	// fail is how many more requests per path are answered 500; down
	// answers every request 503.
	fail map[string]int
	down bool
	// gets holds the query of every GET per path; order the paths of
	// every GET in the order they arrived.
	gets  map[string][]url.Values
	order []string
}

func newLogoutReceiver(t *testing.T) *logoutReceiver {
	r := &logoutReceiver{got: map[string][]string{}, ok: map[string][]string{}, fail: map[string]int{}, gets: map[string][]url.Values{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *logoutReceiver) serve(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if req.Method == http.MethodGet {
		// A redirect URI or a front-channel logout URI loaded by a
		// browser: the query is recorded.
		r.mu.Lock()
		r.gets[req.URL.Path] = append(r.gets[req.URL.Path], req.URL.Query())
		r.order = append(r.order, req.URL.Path)
		r.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!DOCTYPE html><title>rp</title><p>ok</p>"))
		return
	}
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	_ = req.ParseForm()
	tok := req.PostForm.Get("logout_token")
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[req.URL.Path] = append(r.got[req.URL.Path], tok)
	switch {
	case r.down:
		w.WriteHeader(http.StatusServiceUnavailable)
	case r.fail[req.URL.Path] > 0:
		r.fail[req.URL.Path]--
		w.WriteHeader(http.StatusInternalServerError)
	default:
		r.ok[req.URL.Path] = append(r.ok[req.URL.Path], tok)
		w.WriteHeader(http.StatusOK)
	}
}

func (r *logoutReceiver) setDown(v bool) { r.mu.Lock(); r.down = v; r.mu.Unlock() }

func (r *logoutReceiver) counts(path string) (got, ok int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got[path]), len(r.ok[path])
}

func (r *logoutReceiver) delivered(path string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ok[path])
}

// waitDelivered waits until path has received n successful deliveries.
func (r *logoutReceiver) waitDelivered(t *testing.T, path string, n int, within time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if got := r.delivered(path); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			got, ok := r.counts(path)
			t.Fatalf("%s: %d deliveries (%d attempts) within %s, want %d", path, ok, got, within, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logoutUser is a user with a password.
type logoutUser struct{ id, name, password string }

func createLogoutUser(t *testing.T, lk *instance, ws, name string) logoutUser {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/users", map[string]any{"username": name, "email": name + "@example.com"},
		http.StatusCreated, &out)
	u := logoutUser{id: out.ID, name: name, password: "correct horse battery " + e2etest.RandomToken(8)}
	lk.leaks.Add(u.password)
	lk.adminOK(t, http.MethodPut, "/workspaces/"+ws+"/users/"+u.id+"/password", map[string]any{"password": u.password},
		http.StatusNoContent, nil)
	return u
}

// createLogoutClient creates a trusted confidential client of the code
// flow with the logout metadata in extra.
func createLogoutClient(t *testing.T, lk *instance, ws, name string, extra map[string]any) clientInfo {
	t.Helper()
	body := map[string]any{
		"name": name, "type": "confidential", "token_endpoint_auth_method": "client_secret_basic",
		"grant_types": []string{"authorization_code"}, "response_types": []string{"code"},
		"redirect_uris": []string{logoutCallback}, "require_pkce": false, "trusted": true,
	}
	for k, v := range extra {
		body[k] = v
	}
	return lk.createClient(t, ws, body)
}

// signInTokens runs the code flow for c in browser b (signing in as u
// when the browser has no session) and redeems the code; it returns the
// ID token.
func signInTokens(t *testing.T, lk *instance, b *e2eoidc.Browser, ws string, c clientInfo, u logoutUser) string {
	t.Helper()
	ctx := t.Context()
	q := url.Values{"response_type": {"code"}, "client_id": {c.ClientID}, "redirect_uri": {logoutCallback},
		"scope": {"openid"}, "state": {"st"}, "nonce": {e2etest.RandomToken(8)}}
	p, err := b.Get(ctx, lk.issuer(ws)+"/oauth2/authorize?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var code string
	for range 10 {
		if p.IsRedirect() {
			loc, err := p.Location()
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(loc.String(), logoutCallback) {
				code = loc.Query().Get("code")
				break
			}
			if p, err = b.Follow(ctx, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if !p.HasForm("login-form") {
			t.Fatalf("sign-in stopped at %s: %d\n%s", p.URL.Redacted(), p.Status, p.Body)
		}
		f, err := p.Form("login-form")
		if err != nil {
			t.Fatal(err)
		}
		_ = f.Set("username", u.name)
		_ = f.Set("password", u.password)
		if p, err = b.Submit(ctx, f, "login-submit"); err != nil {
			t.Fatal(err)
		}
	}
	if code == "" {
		t.Fatal("no authorization code")
	}
	r := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {logoutCallback},
	}, basic{c.ClientID, c.ClientSecret})
	if r.status != http.StatusOK || r.str("id_token") == "" {
		t.Fatalf("token response %d: %s", r.status, r.raw)
	}
	lk.leaks.AddToken(r.str("access_token"))
	return r.str("id_token")
}

// unverifiedClaims decodes a JWT's payload without verifying it (for the
// ID token the test itself just received over TLS-less loopback).
func unverifiedClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	tok, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256, jose.EdDSA})
	if err != nil {
		t.Fatalf("parse JWT: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(tok.UnsafePayloadWithoutVerification(), &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// verifyLogoutToken verifies a logout token's signature against the
// workspace's JWKS and its claims (Back-Channel Logout §2.4, §2.6).
func verifyLogoutToken(t *testing.T, jwksURL, issuer, clientID, sid, sub, raw string) map[string]any {
	t.Helper()
	if h := jwtHeader(t, raw); h["typ"] != "logout+jwt" {
		t.Fatalf("logout token typ %q, want logout+jwt", h["typ"])
	}
	resp, err := http.Get(jwksURL)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	err = json.NewDecoder(resp.Body).Decode(&set)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256, jose.EdDSA})
	if err != nil {
		t.Fatalf("parse logout token: %v", err)
	}
	keys := set.Key(tok.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("logout token kid %q not in JWKS", tok.Signatures[0].Header.KeyID)
	}
	payload, err := tok.Verify(keys[0])
	if err != nil {
		t.Fatalf("logout token signature: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	events, _ := c["events"].(map[string]any)
	ev, isObj := events["http://schemas.openid.net/event/backchannel-logout"].(map[string]any)
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	now := float64(time.Now().Unix())
	switch {
	case c["iss"] != issuer:
		t.Fatalf("iss %v, want %s", c["iss"], issuer)
	case c["aud"] != clientID:
		t.Fatalf("aud %v, want %s", c["aud"], clientID)
	case !isObj || len(ev) != 0:
		t.Fatalf("events %v", c["events"])
	case c["sid"] != sid:
		t.Fatalf("sid %v, want %s", c["sid"], sid)
	case c["sub"] != sub:
		t.Fatalf("sub %v, want %s", c["sub"], sub)
	case c["jti"] == nil || c["jti"] == "":
		t.Fatal("no jti")
	case c["nonce"] != nil:
		t.Fatal("logout token carries nonce (§2.4 forbids it)")
	case iat > now+5 || iat < now-300 || exp <= now || exp-iat > 120:
		t.Fatalf("iat %v exp %v (now %v)", iat, exp, now)
	}
	return c
}

// signedOutFrames returns the iframe sources of a signed-out page and
// checks that its CSP allows exactly their origins as frames.
func signedOutFrames(t *testing.T, p *e2eoidc.Page) []string {
	t.Helper()
	var srcs []string
	for _, n := range p.Elements(func(n *html.Node) bool { return n.Data == "iframe" }) {
		if !e2eoidc.HasClass(n, "logout-frame") {
			t.Fatalf("iframe without class logout-frame")
		}
		srcs = append(srcs, e2eoidc.Attr(n, "src"))
	}
	csp := p.Header.Get("Content-Security-Policy")
	var origins []string
	for _, s := range srcs {
		u, _ := url.Parse(s)
		if o := u.Scheme + "://" + u.Host; !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	if len(srcs) > 0 && !strings.Contains(csp, "frame-src "+strings.Join(origins, " ")) {
		t.Fatalf("CSP %q does not allow frames %v", csp, origins)
	}
	if len(srcs) == 0 && strings.Contains(csp, "frame-src") {
		t.Fatalf("CSP %q allows frames on a page without any", csp)
	}
	return srcs
}

func TestLogoutChannels(t *testing.T) {
	t.Parallel()
	forEachBackendEnv(t, logoutOutboundEnv, testLogoutChannels)
}

// forEachBackendEnv is forEachBackend with extra environment.
func forEachBackendEnv(t *testing.T, env map[string]string, fn func(t *testing.T, lk *instance)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, startInstanceEnv(t, "", env)) })
	t.Run("postgres", func(t *testing.T) { fn(t, startInstanceEnv(t, postgresSchemaDSN(t), env)) })
}

func testLogoutChannels(t *testing.T, lk *instance) {
	const ws = "default"
	rcv := newLogoutReceiver(t)
	issuer, jwks := lk.issuer(ws), lk.wsURL(ws)+"/oauth2/jwks"

	// Discovery advertises both channels with their session support.
	d := lk.client.get(t, issuer+"/.well-known/openid-configuration")
	for _, k := range []string{"backchannel_logout_supported", "backchannel_logout_session_supported",
		"frontchannel_logout_supported", "frontchannel_logout_session_supported"} {
		if d.json[k] != true {
			t.Fatalf("discovery %s = %v", k, d.json[k])
		}
	}

	// Bad logout URIs are refused with a field error.
	for _, bad := range []map[string]any{
		{"backchannel_logout_uri": "ftp://rp.example.test/logout"},
		{"backchannel_logout_uri": rcv.srv.URL + "/a#frag"},
		{"frontchannel_logout_uri": "http://rp.example.test/logout"},
		{"frontchannel_logout_uri": "https://rp.example.test/logout#x"},
		{"frontchannel_logout_uri": "javascript:alert(1)"},
		{"frontchannel_logout_uri": "https://other.example.test/logout"}, // not the origin of a redirect URI
	} {
		body := map[string]any{"name": "bad", "grant_types": []string{"authorization_code"}, "redirect_uris": []string{logoutCallback},
			"token_endpoint_auth_method": "client_secret_basic"}
		for k, v := range bad {
			body[k] = v
		}
		if r := lk.adminDo(t, http.MethodPost, "/workspaces/"+ws+"/clients", body); r.status != http.StatusBadRequest {
			t.Fatalf("client with %v: status %d %s", bad, r.status, r.raw)
		}
	}

	a := createLogoutClient(t, lk, ws, "app a", map[string]any{
		"backchannel_logout_uri": rcv.srv.URL + "/a", "backchannel_logout_session_required": true,
		"frontchannel_logout_uri": "https://rp.example.test/front-a?x=1", "frontchannel_logout_session_required": true,
	})
	b := createLogoutClient(t, lk, ws, "app b", map[string]any{"backchannel_logout_uri": rcv.srv.URL + "/b"})
	plain := createLogoutClient(t, lk, ws, "app without logout", nil)
	var view map[string]any
	lk.adminOK(t, http.MethodGet, "/workspaces/"+ws+"/clients/"+a.ClientID, nil, http.StatusOK, &view)
	if view["backchannel_logout_uri"] != rcv.srv.URL+"/a" || view["frontchannel_logout_session_required"] != true {
		t.Fatalf("client view %v", view)
	}
	u := createLogoutUser(t, lk, ws, "ada")

	// 1. Account sign-out: both clients of the session get a logout
	// token, b only after failing twice (exactly one more delivery); the
	// signed-out page frames a's front-channel URI with iss and sid.
	rcv.mu.Lock()
	rcv.fail["/b"] = 2
	rcv.mu.Unlock()
	br := e2eoidc.NewBrowser(nil)
	idA := unverifiedClaims(t, signInTokens(t, lk, br, ws, a, u))
	idB := unverifiedClaims(t, signInTokens(t, lk, br, ws, b, u))
	_ = signInTokens(t, lk, br, ws, plain, u)
	sid, _ := idA["sid"].(string)
	if sid == "" || idB["sid"] != sid {
		t.Fatalf("ID tokens of one session carry sid %v and %v", idA["sid"], idB["sid"])
	}
	acct, err := br.Get(t.Context(), issuer+"/account")
	if err != nil {
		t.Fatal(err)
	}
	f, err := acct.Form("logout-form")
	if err != nil {
		t.Fatal(err)
	}
	out, err := br.Submit(t.Context(), f, "logout-submit")
	if err != nil {
		t.Fatal(err)
	}
	frames := signedOutFrames(t, out)
	want := "https://rp.example.test/front-a?" + url.Values{"iss": {issuer}, "sid": {sid}, "x": {"1"}}.Encode()
	if len(frames) != 1 || frames[0] != want {
		t.Fatalf("signed-out page frames %v, want [%s]", frames, want)
	}
	tokA := rcv.waitDelivered(t, "/a", 1, 10*time.Second)
	verifyLogoutToken(t, jwks, issuer, a.ClientID, sid, idA["sub"].(string), tokA[0])
	tokB := rcv.waitDelivered(t, "/b", 1, 15*time.Second)
	cB := verifyLogoutToken(t, jwks, issuer, b.ClientID, sid, idB["sub"].(string), tokB[0])
	time.Sleep(2500 * time.Millisecond) // long enough for a wrong extra attempt
	if got, ok := rcv.counts("/b"); got != 3 || ok != 1 {
		t.Fatalf("/b: %d attempts, %d delivered; want 2 failures then exactly one delivery", got, ok)
	}
	if got, ok := rcv.counts("/a"); got != 1 || ok != 1 {
		t.Fatalf("/a: %d attempts, %d delivered; want 1", got, ok)
	}
	rcv.mu.Lock()
	firstB := rcv.got["/b"][0]
	rcv.mu.Unlock()
	if c := unverifiedClaims(t, firstB); c["jti"] != cB["jti"] {
		t.Fatalf("a retry changed jti: %v then %v", c["jti"], cB["jti"])
	}

	// 2. RP-initiated logout with id_token_hint: the page frames a, and
	// both clients get tokens for the new session.
	br = e2eoidc.NewBrowser(nil)
	rawA := signInTokens(t, lk, br, ws, a, u)
	idB2 := unverifiedClaims(t, signInTokens(t, lk, br, ws, b, u))
	sid2 := idB2["sid"].(string)
	page, err := br.Get(t.Context(), issuer+"/oauth2/logout?"+url.Values{"id_token_hint": {rawA}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if page.Status != http.StatusOK || len(signedOutFrames(t, page)) != 1 {
		t.Fatalf("end-session page %d:\n%s", page.Status, page.Body)
	}
	verifyLogoutToken(t, jwks, issuer, a.ClientID, sid2, idA["sub"].(string), rcv.waitDelivered(t, "/a", 2, 10*time.Second)[1])
	verifyLogoutToken(t, jwks, issuer, b.ClientID, sid2, idB["sub"].(string), rcv.waitDelivered(t, "/b", 2, 10*time.Second)[1])

	// 3. Admin revocation of one session, then of all of a user's.
	for _, all := range []bool{false, true} {
		br = e2eoidc.NewBrowser(nil)
		idS := unverifiedClaims(t, signInTokens(t, lk, br, ws, a, u))
		path := "/workspaces/" + ws + "/users/" + u.id + "/sessions"
		if !all {
			path += "/" + idS["sid"].(string)
		}
		if r := lk.adminDo(t, http.MethodDelete, path, nil); r.status != http.StatusNoContent && r.status != http.StatusOK {
			t.Fatalf("DELETE %s: %d %s", path, r.status, r.raw)
		}
		n := 3
		if all {
			n = 4
		}
		got := rcv.waitDelivered(t, "/a", n, 10*time.Second)
		verifyLogoutToken(t, jwks, issuer, a.ClientID, idS["sid"].(string), idA["sub"].(string), got[n-1])
	}
}

// TestLogoutQueueSurvivesRestart: messages queued while the receiver is
// down are delivered by the next server started on the same database.
func TestLogoutQueueSurvivesRestart(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { testLogoutRestart(t, "") })
	t.Run("postgres", func(t *testing.T) { testLogoutRestart(t, postgresSchemaDSN(t)) })
}

func testLogoutRestart(t *testing.T, dsn string) {
	const ws = "default"
	rcv := newLogoutReceiver(t)
	rcv.setDown(true)
	dir := t.TempDir()
	lk := &instance{admin: "e2e-admin-" + e2etest.RandomToken(32), clock: &e2etest.Clock{},
		logs: &e2etest.SyncBuffer{}, leaks: &e2etest.SecretList{}}
	lk.leaks.Add(lk.admin)
	lk.client = &httpClient{leaks: lk.leaks}
	cfg := e2etest.LoadConfig(t, e2etest.Config{DataDir: dir, DSN: dsn, AdminToken: lk.admin, Env: logoutOutboundEnv})
	srv := e2etest.StartServer(t, cfg, lk.clock.Now, lk.logs)
	lk.base = srv.BaseURL
	a := createLogoutClient(t, lk, ws, "app a", map[string]any{"backchannel_logout_uri": rcv.srv.URL + "/a"})
	u := createLogoutUser(t, lk, ws, "ada")
	br := e2eoidc.NewBrowser(nil)
	id := unverifiedClaims(t, signInTokens(t, lk, br, ws, a, u))
	lk.adminOK(t, http.MethodDelete, "/workspaces/"+ws+"/users/"+u.id+"/sessions", nil, http.StatusNoContent, nil)
	// Wait for a failed attempt, so the message is known to be queued
	// and not yet delivered, then stop the server.
	deadline := time.Now().Add(10 * time.Second)
	for got, _ := rcv.counts("/a"); got == 0; got, _ = rcv.counts("/a") {
		if time.Now().After(deadline) {
			t.Fatal("no delivery attempt while the receiver was down")
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv.Stop(t)
	rcv.setDown(false)
	if _, ok := rcv.counts("/a"); ok != 0 {
		t.Fatal("delivered while down")
	}

	cfg = e2etest.LoadConfig(t, e2etest.Config{DataDir: dir, DSN: dsn, AdminToken: lk.admin, Env: logoutOutboundEnv})
	srv = e2etest.StartServer(t, cfg, lk.clock.Now, lk.logs)
	t.Cleanup(func() {
		srv.Stop(t)
		lk.leaks.CheckLog(t, "server", lk.logs.String())
	})
	lk.base = srv.BaseURL
	got := rcv.waitDelivered(t, "/a", 1, 20*time.Second)
	verifyLogoutToken(t, lk.wsURL(ws)+"/oauth2/jwks", lk.issuer(ws), a.ClientID, id["sid"].(string), id["sub"].(string), got[0])
	time.Sleep(1500 * time.Millisecond)
	if _, ok := rcv.counts("/a"); ok != 1 {
		t.Fatalf("delivered %d times after restart, want 1", ok)
	}
}

// TestLogoutQueueMultiProcess: two `latchkey serve` processes on one
// PostgreSQL schema deliver every queued logout token exactly once per
// message and receiver.
func TestLogoutQueueMultiProcess(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutPostgres(t, "multi-process back-channel logout test")
	const ws = "default"
	rcv := newLogoutReceiver(t)
	dsn := postgresSchemaDSN(t)
	leaks := &e2etest.SecretList{}
	fleet := e2etest.NewFleet(t, "e2e-admin-", leaks,
		"LATCHKEY_OUTBOUND_ALLOW_PRIVATE_ADDRESSES=true", "LATCHKEY_OUTBOUND_ALLOW_HTTP=true")
	var nodes [2]*instance
	for i := range nodes {
		p := fleet.Start(t, fmt.Sprintf("process %d", i+1), "--base-url", sharedBaseURL, "--storage", dsn, "--data-dir", t.TempDir())
		nodes[i] = &instance{base: "http://" + p.Addr, public: sharedBaseURL, admin: fleet.Admin, leaks: leaks,
			client: &httpClient{leaks: leaks}}
	}
	p1 := nodes[0]
	a := createLogoutClient(t, p1, ws, "app a", map[string]any{"backchannel_logout_uri": rcv.srv.URL + "/a"})
	b := createLogoutClient(t, p1, ws, "app b", map[string]any{"backchannel_logout_uri": rcv.srv.URL + "/b"})
	// Hold deliveries while the sessions end, so both processes find many
	// messages due at once.
	rcv.setDown(true)
	const sessions = 6
	var sids []string
	for i := range sessions {
		lk := nodes[i%2]
		u := createLogoutUser(t, p1, ws, fmt.Sprintf("user%d", i))
		br := e2eoidc.NewBrowser(dialTo(lk.base))
		// The browser speaks to the shared public URL; dialTo sends it
		// to this process.
		id := unverifiedClaims(t, signInTokens(t, lk, br, ws, a, u))
		_ = signInTokens(t, lk, br, ws, b, u)
		sids = append(sids, id["sid"].(string))
		lk.adminOK(t, http.MethodDelete, "/workspaces/"+ws+"/users/"+u.id+"/sessions", nil, http.StatusNoContent, nil)
	}
	rcv.mu.Lock()
	rcv.got = map[string][]string{}
	rcv.down = false
	rcv.mu.Unlock()
	for _, path := range []string{"/a", "/b"} {
		rcv.waitDelivered(t, path, sessions, 60*time.Second) // attempts while down backed off
	}
	time.Sleep(2 * time.Second)
	for _, path := range []string{"/a", "/b"} {
		var got []string
		for _, tok := range rcv.delivered(path) {
			got = append(got, unverifiedClaims(t, tok)["sid"].(string))
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(sids))
		if !slices.Equal(got, want) {
			t.Fatalf("%s received sessions %v, want each of %v once", path, got, want)
		}
	}
}

// dialTo is a transport that sends every request to addr (base URL of a
// process), whatever the URL's host: the browser of a user behind the
// shared public base URL.
func dialTo(base string) http.RoundTripper {
	addr := strings.TrimPrefix(base, "http://")
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return tr
}

// waitGet waits for a GET of path and returns its query.
func (r *logoutReceiver) waitGet(t *testing.T, path string, within time.Duration) url.Values {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r.mu.Lock()
		got := r.gets[path]
		r.mu.Unlock()
		if len(got) > 0 {
			return got[len(got)-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no GET %s within %s", path, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFrontchannelLogoutChromium: in a real chromium, signing out at the
// account page loads the client's front-channel logout URI with iss and
// sid (Front-Channel Logout 1.0 §2-§4), which the page's CSP allows, and
// the back-channel token follows.
func TestFrontchannelLogoutChromium(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	const ws = "default"
	lk := startInstanceEnv(t, "", logoutOutboundEnv)
	rcv := newLogoutReceiver(t)
	c := lk.createClient(t, ws, map[string]any{
		"name": "front app", "type": "confidential", "token_endpoint_auth_method": "client_secret_basic",
		"grant_types": []string{"authorization_code"}, "response_types": []string{"code"},
		"redirect_uris": []string{rcv.srv.URL + "/cb"}, "require_pkce": false, "trusted": true,
		"frontchannel_logout_uri": rcv.srv.URL + "/front", "frontchannel_logout_session_required": true,
		"backchannel_logout_uri": rcv.srv.URL + "/back",
	})
	u := createLogoutUser(t, lk, ws, "grace")
	issuer := lk.issuer(ws)
	q := url.Values{"response_type": {"code"}, "client_id": {c.ClientID}, "redirect_uri": {rcv.srv.URL + "/cb"},
		"scope": {"openid"}, "state": {"st"}, "nonce": {"n"}}
	ctx := e2etest.Chromium(t, chromedp.DefaultExecAllocatorOptions[:]...)
	steps := e2etest.Steps{Timeout: 30 * time.Second, Page: func(ctx context.Context, tg *chromedp.Target) (string, error) {
		return chromedp.OuterHTML(chromedp.CSS("html"))(ctx, tg)
	}}
	steps.Run(t, ctx, "sign in",
		chromedp.Navigate(issuer+"/oauth2/authorize?"+q.Encode()),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		chromedp.SendKeys(chromedp.ID("username"), u.name),
		chromedp.SendKeys(chromedp.ID("password"), u.password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	code := rcv.waitGet(t, "/cb", 20*time.Second).Get("code")
	r := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rcv.srv.URL + "/cb"},
	}, basic{c.ClientID, c.ClientSecret})
	if r.status != http.StatusOK {
		t.Fatalf("token response %d: %s", r.status, r.raw)
	}
	lk.leaks.AddToken(r.str("access_token"))
	id := unverifiedClaims(t, r.str("id_token"))
	steps.Run(t, ctx, "sign out",
		chromedp.Navigate(issuer+"/account"),
		chromedp.WaitVisible(chromedp.ID("logout-form")),
		chromedp.Click(chromedp.ID("logout-submit")),
		chromedp.WaitVisible(chromedp.ID("message")),
	)
	front := rcv.waitGet(t, "/front", 20*time.Second)
	if front.Get("iss") != issuer || front.Get("sid") != id["sid"] || len(front) != 2 {
		t.Fatalf("front-channel logout request %v, want iss %s and sid %v", front, issuer, id["sid"])
	}
	verifyLogoutToken(t, lk.wsURL(ws)+"/oauth2/jwks", issuer, c.ClientID, id["sid"].(string), id["sub"].(string),
		rcv.waitDelivered(t, "/back", 1, 10*time.Second)[0])
}

// TestFrontchannelLogoutThenRedirectChromium: after an RP-initiated logout
// whose signed-out page loads front-channel logout iframes, chromium is
// sent on to the validated post_logout_redirect_uri with state once the
// iframes have loaded (Front-Channel Logout 1.0 §4: the OP renders the
// iframes, then redirects; RP-Initiated Logout 1.0 §3), by a script the
// page's CSP allows, and the front-channel receiver is hit first.
func TestFrontchannelLogoutThenRedirectChromium(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	const ws = "default"
	lk := startInstanceEnv(t, "", logoutOutboundEnv)
	rcv := newLogoutReceiver(t)
	c := lk.createClient(t, ws, map[string]any{
		"name": "front redirect app", "type": "confidential", "token_endpoint_auth_method": "client_secret_basic",
		"grant_types": []string{"authorization_code"}, "response_types": []string{"code"},
		"redirect_uris": []string{rcv.srv.URL + "/cb"}, "require_pkce": false, "trusted": true,
		"post_logout_redirect_uris": []string{rcv.srv.URL + "/bye"},
		"frontchannel_logout_uri":   rcv.srv.URL + "/front", "frontchannel_logout_session_required": true,
	})
	u := createLogoutUser(t, lk, ws, "heidi")
	issuer := lk.issuer(ws)
	q := url.Values{"response_type": {"code"}, "client_id": {c.ClientID}, "redirect_uri": {rcv.srv.URL + "/cb"},
		"scope": {"openid"}, "state": {"st"}, "nonce": {"n"}}
	ctx := e2etest.Chromium(t, chromedp.DefaultExecAllocatorOptions[:]...)
	steps := e2etest.Steps{Timeout: 30 * time.Second, Page: func(ctx context.Context, tg *chromedp.Target) (string, error) {
		return chromedp.OuterHTML(chromedp.CSS("html"))(ctx, tg)
	}}
	steps.Run(t, ctx, "sign in",
		chromedp.Navigate(issuer+"/oauth2/authorize?"+q.Encode()),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		chromedp.SendKeys(chromedp.ID("username"), u.name),
		chromedp.SendKeys(chromedp.ID("password"), u.password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	code := rcv.waitGet(t, "/cb", 20*time.Second).Get("code")
	r := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rcv.srv.URL + "/cb"},
	}, basic{c.ClientID, c.ClientSecret})
	if r.status != http.StatusOK {
		t.Fatalf("token response %d: %s", r.status, r.raw)
	}
	lk.leaks.AddToken(r.str("access_token"))
	id := unverifiedClaims(t, r.str("id_token"))
	logout := url.Values{"id_token_hint": {r.str("id_token")}, "post_logout_redirect_uri": {rcv.srv.URL + "/bye"}, "state": {"bye-state"}}
	steps.Run(t, ctx, "RP-initiated logout", chromedp.Navigate(issuer+"/oauth2/logout?"+logout.Encode()))
	// The receiver is the relying party: the browser arriving at /bye is
	// the redirect; no click was made.
	bye := rcv.waitGet(t, "/bye", 15*time.Second)
	if bye.Get("state") != "bye-state" {
		t.Fatalf("post-logout redirect query %v, want state bye-state", bye)
	}
	front := rcv.waitGet(t, "/front", 5*time.Second)
	if front.Get("iss") != issuer || front.Get("sid") != id["sid"] {
		t.Fatalf("front-channel logout request %v, want iss %s and sid %v", front, issuer, id["sid"])
	}
	rcv.mu.Lock()
	order := slices.Clone(rcv.order)
	rcv.mu.Unlock()
	if i, j := slices.Index(order, "/front"), slices.Index(order, "/bye"); i < 0 || j < 0 || i > j {
		t.Fatalf("receiver GETs in order %v, want /front before /bye", order)
	}
}
