package oidc

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// browserSteps gives each step 30 seconds; a failure shows the page's
// HTML.
var browserSteps = e2etest.Steps{Timeout: 30 * time.Second, Page: clippedHTML}

// clippedHTML is the page's HTML, clipped for a failure message.
func clippedHTML(ctx context.Context, tg *chromedp.Target) (string, error) {
	body, err := chromedp.OuterHTML(chromedp.CSS("html"))(ctx, tg)
	return clip([]byte(body)), err
}

// TestBrowserChromium: a real chromium signs in, consents and lands on a
// loopback redirect URI; the code is exchanged with golang.org/x/oauth2
// and PKCE; go-oidc verifies the ID token; the refresh token rotates.
// Screenshots of the sign-in, consent, error and logout confirmation
// pages are saved under LATCHKEY_TEST_ARTIFACTS (or a temporary
// directory).
func TestBrowserChromium(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	e := newEnv(t, envOptions{})
	cb := newCallbackServer(t)
	pkceOn := true
	c := e.createClient(t, testWS, clientSpec{ID: "browser-app", RedirectURIs: []string{cb.url}, RequirePKCE: &pkceOn})
	conf := &oauth2.Config{
		ClientID: c.ID, ClientSecret: c.Secret, RedirectURL: cb.url,
		Scopes:   []string{gooidc.ScopeOpenID, "profile", "email", gooidc.ScopeOfflineAccess},
		Endpoint: oauth2.Endpoint{AuthURL: e.issuer + "/oauth2/authorize", TokenURL: e.issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader},
	}
	verifier, state, nonce := oauth2.GenerateVerifier(), e2etest.RandomToken(12), e2etest.RandomToken(12)
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", nonce), oauth2.SetAuthURLParam("prompt", "consent"))

	ctx := e2etest.Chromium(t, append(chromedp.DefaultExecAllocatorOptions[:], chromedp.WindowSize(1024, 900))...)
	shots := e2etest.ArtifactsDir(t)
	browserSteps.Run(t, ctx, "sign-in page",
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		e2etest.Screenshot(shots, "signin.png"),
		chromedp.SendKeys(chromedp.ID("username"), e.user.Username),
		chromedp.SendKeys(chromedp.ID("password"), "not the password"),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("error")),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		e2etest.Screenshot(shots, "signin-error.png"),
		chromedp.Clear(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("password"), e.user.Password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	browserSteps.Run(t, ctx, "consent page",
		chromedp.WaitVisible(chromedp.ID("consent-form")),
		e2etest.Screenshot(shots, "consent.png"),
		chromedp.Click(chromedp.ID("consent-allow")),
	)
	got := cb.wait(t)
	if got.Get("state") != state || got.Get("iss") != e.issuer || got.Get("code") == "" {
		t.Fatalf("callback %v, want code, state %q and iss %q", got, state, e.issuer)
	}
	e.secrets.Add(got.Get("code"))
	verifyBrowserTokens(t, e, conf, got.Get("code"), verifier, nonce)

	browserSteps.Run(t, ctx, "error page",
		chromedp.Navigate(e.issuer+"/oauth2/authorize?client_id=no-such-client&response_type=code&redirect_uri="+url.QueryEscape(cb.url)),
		chromedp.WaitVisible(chromedp.ID("error")),
		e2etest.Screenshot(shots, "error.png"),
	)
	browserLogout(t, ctx, e, c.ID, shots)
	t.Logf("screenshots in %s", shots)
}

// browserLogout: a logout request without id_token_hint asks first
// (SECURITY.md W8); "Stay signed in" keeps the session, "Sign out" ends
// it. The confirmation page is saved as logout-confirm.png.
func browserLogout(t *testing.T, ctx context.Context, e *env, clientID, shots string) {
	t.Helper()
	logoutURL := e.issuer + "/oauth2/logout?client_id=" + url.QueryEscape(clientID)
	browserSteps.Run(t, ctx, "logout confirmation page",
		chromedp.Navigate(logoutURL),
		chromedp.WaitVisible(chromedp.ID("logout-confirm-form")),
		e2etest.Screenshot(shots, "logout-confirm.png"),
		chromedp.Click(chromedp.ID("logout-stay")),
		chromedp.WaitVisible(chromedp.ID("message")),
		chromedp.Navigate(e.issuer+"/account"),
		chromedp.WaitVisible(chromedp.ID("logout-form")),
	)
	browserSteps.Run(t, ctx, "logout confirmed",
		chromedp.Navigate(logoutURL),
		chromedp.WaitVisible(chromedp.ID("logout-confirm-form")),
		chromedp.Click(chromedp.ID("logout-confirm")),
		chromedp.WaitVisible(chromedp.ID("message")),
		chromedp.Navigate(e.issuer+"/account"),
		chromedp.WaitVisible(chromedp.ID("login-form")),
	)
}

// verifyBrowserTokens exchanges the code with x/oauth2 and PKCE, verifies
// the ID token with go-oidc and checks that refreshing rotates.
func verifyBrowserTokens(t *testing.T, e *env, conf *oauth2.Config, code, verifier, nonce string) {
	t.Helper()
	ctx := t.Context()
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("x/oauth2 exchange: %v", err)
	}
	e.secrets.AddToken(tok.AccessToken)
	e.secrets.Add(tok.RefreshToken)
	rawID, _ := tok.Extra("id_token").(string)
	it := e.verifyIDToken(t, conf.ClientID, rawID, nonce, tok.AccessToken)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}
	stale := &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
	next, err := conf.TokenSource(ctx, stale).Token()
	if err != nil {
		t.Fatalf("x/oauth2 refresh: %v", err)
	}
	e.secrets.AddToken(next.AccessToken)
	e.secrets.Add(next.RefreshToken)
	if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
		t.Error("refresh did not rotate the refresh token")
	}
	requireUserinfo(t, e.userinfo(t, http.MethodGet, next.AccessToken, false), it.Subject)
	// The rotated-away token is refused, and its reuse revokes the family
	// (SECURITY.md H1): the new access token stops working too.
	creds := clientCreds{ID: conf.ClientID, Secret: conf.ClientSecret, AuthMethod: "client_secret_basic"}
	requireOAuthError(t, e.refresh(t, creds, tok.RefreshToken, nil), http.StatusBadRequest, "invalid_grant")
	if r := e.userinfo(t, http.MethodGet, next.AccessToken, false); r.status != http.StatusUnauthorized {
		t.Errorf("H1: UserInfo after refresh token reuse: %d, want 401", r.status)
	}
}

// callbackServer is the relying party's loopback redirect URI (RFC 8252
// §7.3): it records the authorization response.
type callbackServer struct {
	url string
	got chan url.Values
}

func newCallbackServer(t *testing.T) *callbackServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cb := &callbackServer{url: "http://" + ln.Addr().String() + "/callback", got: make(chan url.Values, 1)}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		select {
		case cb.got <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>Signed in</title><p id=done>Signed in.</p>"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return cb
}

func (cb *callbackServer) wait(t *testing.T) url.Values {
	t.Helper()
	select {
	case v := <-cb.got:
		return v
	case <-time.After(30 * time.Second):
		t.Fatal("the browser never reached the redirect URI")
		return nil
	}
}
