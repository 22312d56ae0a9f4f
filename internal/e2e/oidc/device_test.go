package oidc

// The device authorization grant (RFC 8628) end to end: golang.org/x/oauth2's
// DeviceAuth and DeviceAccessToken against a real server, the device page
// driven in chromium, and one token per device code across two processes
// on one PostgreSQL (SECURITY.md V1-V6).

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

const grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// deviceClient registers a public client with the device grant (and
// refresh tokens) through the admin API: no client has the grant unless
// an administrator gives it.
func (e *env) deviceClient(t *testing.T, id string) clientCreds {
	t.Helper()
	return e.createClient(t, testWS, clientSpec{ID: id, Type: "public", RedirectURIs: []string{"http://unused.invalid/cb"},
		Extra: map[string]any{"name": "Kitchen TV", "grant_types": []string{grantDeviceCode, "refresh_token"},
			"response_types": []string{}, "redirect_uris": []string{}}})
}

func (e *env) deviceConfig(c clientCreds, scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: c.ID, Scopes: scopes, Endpoint: oauth2.Endpoint{
		DeviceAuthURL: e.issuer + "/oauth2/device_authorization", TokenURL: e.issuer + "/oauth2/token",
		AuthStyle: oauth2.AuthStyleInParams,
	}}
}

func (e *env) oauthContext(t *testing.T) context.Context {
	return context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Transport: e.transport(), Timeout: 30 * time.Second})
}

// approveDevice signs in through the device page in an HTTP browser and
// answers the confirmation with the button buttonID; it requires a 200.
func (e *env) approveDevice(t *testing.T, complete, buttonID string) {
	t.Helper()
	if p := e.decideDevice(t, complete, buttonID); p.Status != http.StatusOK {
		t.Fatalf("decision answered %d:\n%s", p.Status, clip(p.Body))
	}
}

// decideDevice is approveDevice returning the page the decision got.
func (e *env) decideDevice(t *testing.T, complete, buttonID string) *Page {
	t.Helper()
	ctx := t.Context()
	b := NewBrowser(e.transport())
	p, err := b.Get(ctx, complete)
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
	if p, err = b.FollowRedirects(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	entry, err := p.Form("device-form")
	must(t, err)
	if p, err = b.Submit(ctx, entry, "device-submit"); err != nil {
		t.Fatal(err)
	}
	confirm, err := p.Form("device-confirm-form")
	if err != nil {
		t.Fatalf("confirmation page: %v\n%s", err, clip(p.Body))
	}
	if p, err = b.Submit(ctx, confirm, buttonID); err != nil {
		t.Fatalf("decision: %v", err)
	}
	return p
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestDeviceXOAuth2 runs the grant with golang.org/x/oauth2 on SQLite and
// PostgreSQL: DeviceAuth, approval on the device page, DeviceAccessToken
// (which waits the interval); the ID token verifies with go-oidc and the
// refresh token rotates. A denial ends DeviceAccessToken with
// access_denied.
func TestDeviceXOAuth2(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, e *env) {
		c := e.deviceClient(t, "tv")
		conf := e.deviceConfig(c, gooidc.ScopeOpenID, "profile", gooidc.ScopeOfflineAccess)
		ctx := e.oauthContext(t)
		da, err := conf.DeviceAuth(ctx)
		if err != nil {
			t.Fatalf("x/oauth2 DeviceAuth: %v", err)
		}
		e.secrets.Add(da.DeviceCode)
		if da.Interval != 5 || !strings.HasPrefix(da.VerificationURIComplete, e.issuer+"/device?user_code=") {
			t.Fatalf("device authorization %+v", da)
		}
		e.approveDevice(t, da.VerificationURIComplete, "device-approve")
		tok, err := conf.DeviceAccessToken(ctx, da)
		if err != nil {
			t.Fatalf("x/oauth2 DeviceAccessToken: %v", err)
		}
		e.secrets.AddToken(tok.AccessToken)
		e.secrets.Add(tok.RefreshToken)
		rawID, _ := tok.Extra("id_token").(string)
		e.secrets.AddToken(rawID)
		if it := e.verifyIDToken(t, c.ID, rawID, "", tok.AccessToken); it.Subject == "" {
			t.Fatal("ID token without sub")
		}
		next, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
		if err != nil || next.RefreshToken == tok.RefreshToken {
			t.Fatalf("refresh after the device grant: %v", err)
		}
		e.secrets.AddToken(next.AccessToken)
		e.secrets.Add(next.RefreshToken)

		da2, err := conf.DeviceAuth(ctx)
		must(t, err)
		e.secrets.Add(da2.DeviceCode)
		e.approveDevice(t, da2.VerificationURIComplete, "device-deny")
		_, err = conf.DeviceAccessToken(ctx, da2)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "access_denied" {
			t.Fatalf("DeviceAccessToken after denial: %v, want access_denied", err)
		}
	})
}

// TestDeviceChromium drives the device page in chromium: a signed-out
// browser opening verification_uri_complete signs in, comes back to the
// prefilled code, confirms after seeing the client and the scopes, and the
// device's poll gets tokens. Screenshots: device-signin.png,
// device-entry.png, device-confirm.png, device-done.png.
func TestDeviceChromium(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	e := newEnv(t, envOptions{})
	c := e.deviceClient(t, "kitchen-tv")
	conf := e.deviceConfig(c, gooidc.ScopeOpenID, "email", "api:read")
	ctx := e.oauthContext(t)
	da, err := conf.DeviceAuth(ctx)
	must(t, err)
	e.secrets.Add(da.DeviceCode)

	bctx := e2etest.Chromium(t, append(chromedp.DefaultExecAllocatorOptions[:], chromedp.WindowSize(1024, 900))...)
	shots := e2etest.ArtifactsDir(t)
	browserSteps.Run(t, bctx, "sign in from verification_uri_complete",
		chromedp.Navigate(da.VerificationURIComplete),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		e2etest.Screenshot(shots, "device-signin.png"),
		chromedp.SendKeys(chromedp.ID("username"), e.user.Username),
		chromedp.SendKeys(chromedp.ID("password"), e.user.Password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	browserSteps.Run(t, bctx, "code entry page",
		chromedp.WaitVisible(chromedp.ID("device-form")),
		e2etest.Screenshot(shots, "device-entry.png"),
	)
	if prefilled, err := chromedp.Run(bctx, chromedp.Value(chromedp.ID("user_code"))); err != nil || prefilled != da.UserCode {
		t.Fatalf("prefilled code %q (%v), want %q", prefilled, err, da.UserCode)
	}
	browserSteps.Run(t, bctx, "confirmation page",
		chromedp.Click(chromedp.ID("device-submit")),
		chromedp.WaitVisible(chromedp.ID("device-confirm-form")),
		chromedp.WaitVisible(chromedp.CSS(`li[data-scope="api:read"]`)),
		e2etest.Screenshot(shots, "device-confirm.png"),
	)
	client, _ := chromedp.Run(bctx, chromedp.Text(chromedp.ID("client-name")))
	code, _ := chromedp.Run(bctx, chromedp.Text(chromedp.ID("device-user-code")))
	if client != "Kitchen TV" || strings.TrimSpace(code) != da.UserCode {
		t.Fatalf("confirmation shows client %q and code %q", client, code)
	}
	browserSteps.Run(t, bctx, "approval",
		chromedp.Click(chromedp.ID("device-approve")),
		chromedp.WaitVisible(chromedp.ID("message")),
		e2etest.Screenshot(shots, "device-done.png"),
	)
	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatalf("DeviceAccessToken: %v", err)
	}
	e.secrets.AddToken(tok.AccessToken)
	if tok.Extra("scope") != "openid email api:read" {
		t.Fatalf("granted scope %v", tok.Extra("scope"))
	}
	t.Logf("screenshots in %s", shots)
}

// TestDeviceMultiProcess is SECURITY.md V4 across two `latchkey serve`
// processes on one PostgreSQL schema: before approval both answer
// authorization_pending (and share the raised interval: slow_down on the
// other process), after approval 20 parallel polls spread over both get
// exactly one 200 and otherwise 400 invalid_grant, and later polls too.
func TestDeviceMultiProcess(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutPostgres(t, "multi-process test")
	dsn := postgresSchemaDSN(t)
	cl := newCluster(t)
	p1 := cl.start(t, "process 1", "--storage", dsn, "--data-dir", t.TempDir())
	p2 := cl.start(t, "process 2", "--storage", dsn, "--data-dir", t.TempDir())
	p1.setup(t)
	p2.adoptSetup(p1)
	c := p1.deviceClient(t, "tv")
	time.Sleep(300 * time.Millisecond) // let process 2's cache see the new client
	start := p1.postForm(t, "/oauth2/device_authorization", c, url.Values{"scope": {"openid"}})
	if start.status != http.StatusOK {
		t.Fatalf("device authorization: %d %s", start.status, start.raw)
	}
	deviceCode := start.str("device_code")
	p1.secrets.Add(deviceCode)
	poll := func(e *env) reply {
		return e.postForm(t, "/oauth2/token", c, url.Values{"grant_type": {grantDeviceCode}, "device_code": {deviceCode}})
	}
	requireOAuthError(t, poll(p1), http.StatusBadRequest, "authorization_pending")
	requireOAuthError(t, poll(p2), http.StatusBadRequest, "slow_down") // V3: state shared by both processes
	p1.approveDevice(t, start.str("verification_uri_complete"), "device-approve")
	replies := parallel(20, func(i int) reply { return poll([]*env{p1, p2}[i%2]) })
	if ok := countWinners(t, "V4 device code", replies); ok != 1 {
		t.Fatalf("V4: %d of 20 parallel polls after approval got tokens, want exactly 1", ok)
	}
	requireOAuthError(t, poll(p2), http.StatusBadRequest, "invalid_grant")
	cl.stopAll(t)
}

// TestDeviceLifecycle is SECURITY.md V7 and the policies at approval: the
// client's user policy denies a user outside its profile on the device
// page (access_denied with the rule's message, and the device gets
// access_denied); a user approved and then disabled gets no tokens.
func TestDeviceLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ws := "/workspaces/" + testWS
	c := e.deviceClient(t, "tv")
	e.adminDo(t, http.MethodPost, ws+"/profiles", map[string]any{"id": "staff", "name": "Staff"}, http.StatusCreated, nil)
	e.adminDo(t, http.MethodPost, ws+"/policies", map[string]any{
		"id": "staff-only", "name": "Staff only", "kind": "user",
		"template": "profiles", "params": map[string]string{"profiles": "staff"},
	}, http.StatusCreated, nil)
	e.adminDo(t, http.MethodPut, ws+"/clients/"+c.ID+"/policies", map[string]any{"user_policy_id": "staff-only"}, http.StatusOK, nil)
	const msg = "your account is not in a profile allowed to use this application"
	start := func() reply {
		r := e.postForm(t, "/oauth2/device_authorization", c, url.Values{"scope": {"openid"}})
		if r.status != http.StatusOK {
			t.Fatalf("device authorization: %d %s", r.status, r.raw)
		}
		e.secrets.Add(r.str("device_code"))
		return r
	}
	poll := func(r reply) reply {
		return e.postForm(t, "/oauth2/token", c, url.Values{"grant_type": {grantDeviceCode}, "device_code": {r.str("device_code")}})
	}

	denied := start()
	p := e.decideDevice(t, denied.str("verification_uri_complete"), "device-approve")
	if desc, _ := p.TextByID("error-description"); p.Status != http.StatusForbidden || desc != msg {
		t.Fatalf("policy denial page: %d %q", p.Status, desc)
	}
	requireOAuthError(t, poll(denied), http.StatusBadRequest, "access_denied")

	e.adminDo(t, http.MethodPatch, ws+"/users/"+e.user.ID, map[string]any{"profiles": []string{"staff"}}, http.StatusOK, nil)
	approved := start()
	e.approveDevice(t, approved.str("verification_uri_complete"), "device-approve")
	e.adminDo(t, http.MethodPatch, ws+"/users/"+e.user.ID, map[string]any{"active": false}, http.StatusOK, nil)
	requireOAuthError(t, poll(approved), http.StatusBadRequest, "invalid_grant")
}
