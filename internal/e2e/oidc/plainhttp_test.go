package oidc

// docs/security.md K6 on a developer's first run: with an http base URL
// on loopback, an unmodified HTTP client with a standard cookie jar signs
// in; with an https base URL every cookie keeps __Host- and Secure.

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

// TestPlainHTTPLoopbackSignInWithCookieJar completes the authorization
// code flow (sign-in, consent, code, token) against a server whose base
// URL is http://127.0.0.1:port, with net/http's cookie jar and
// golang.org/x/oauth2, and checks that no cookie needed Secure or the
// __Host- prefix: jars that never return Secure cookies over http (curl,
// Python requests) then work as well.
func TestPlainHTTPLoopbackSignInWithCookieJar(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	if !strings.HasPrefix(e.base, "http://127.0.0.1:") {
		t.Fatalf("base URL %s, want http://127.0.0.1:port", e.base)
	}
	md := e.discovery(t)
	conf := &oauth2.Config{
		ClientID: e.client.ID, ClientSecret: e.client.Secret, RedirectURL: e.client.RedirectURI,
		Scopes: []string{"openid", "api:read"},
		Endpoint: oauth2.Endpoint{AuthURL: md.str("authorization_endpoint"), TokenURL: md.str("token_endpoint"),
			AuthStyle: oauth2.AuthStyleInHeader},
	}
	seen := &cookieRecorder{next: http.DefaultTransport}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar, Transport: seen, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if sameEndpoint(req.URL, e.client.RedirectURI) {
			return http.ErrUseLastResponse // nothing listens at the client's redirect URI
		}
		return nil
	}}

	verifier := oauth2.GenerateVerifier()
	state := "plain-http-" + verifier[:8]
	login := loadWith(t, client, http.MethodGet, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), "", "")
	consent := submitWith(t, client, login, loginForm, loginSubmit, map[string]string{"username": e.user.Username, "password": e.user.Password})
	if !consent.HasForm(consentForm) {
		t.Fatalf("after signing in: %d, no consent form (was the session cookie sent back?)\n%s", consent.Status, consent.Body)
	}
	back := submitWith(t, client, consent, consentForm, consentAllow, nil)
	loc, err := back.Location()
	if err != nil || !sameEndpoint(loc, e.client.RedirectURI) || loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
		t.Fatalf("after consent: %d Location %v (%v), want the client's redirect URI with code and state", back.Status, loc, err)
	}
	tok, err := conf.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("golang.org/x/oauth2 Exchange: %v", err)
	}
	if idt, _ := tok.Extra("id_token").(string); tok.AccessToken == "" || idt == "" {
		t.Fatalf("token response without access_token or id_token: %+v", tok)
	}
	e.secrets.Add(tok.AccessToken)
	e.secrets.Add(tok.RefreshToken)

	cookies := seen.all()
	if len(cookies) == 0 {
		t.Fatal("no cookies set during the flow")
	}
	for _, c := range cookies {
		if strings.HasPrefix(c.Name, "__Host-") || c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" {
			t.Errorf("cookie %s: Secure=%v HttpOnly=%v Path=%q Domain=%q, want no __Host- prefix and no Secure on an http base URL, HttpOnly, Path=/, no Domain",
				c.Name, c.Secure, c.HttpOnly, c.Path, c.Domain)
		}
	}
}

// TestHTTPSBaseURLHostCookies: with an https base URL every cookie of the
// flow and of the console keeps __Host- and Secure (docs/security.md K6).
func TestHTTPSBaseURLHostCookies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{tls: newTestTLS(t, t.TempDir())})
	if !strings.HasPrefix(e.base, "https://") {
		t.Fatalf("base URL %s, want https", e.base)
	}
	t.Run("authorization flow", func(t *testing.T) { testK6(t, e) })
	t.Run("console", func(t *testing.T) {
		r := e.get(t, e.base+"/console/signin", nil)
		cookies := (&http.Response{Header: r.header}).Cookies()
		if r.status != http.StatusOK || len(cookies) == 0 {
			t.Fatalf("console sign-in page: %d with %d cookies", r.status, len(cookies))
		}
		for _, c := range cookies {
			if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" {
				t.Errorf("console cookie %s: Secure=%v HttpOnly=%v Path=%q Domain=%q, want __Host-, Secure, HttpOnly, Path=/, no Domain",
					c.Name, c.Secure, c.HttpOnly, c.Path, c.Domain)
			}
		}
	})
}

// cookieRecorder keeps every Set-Cookie the client receives, to check the
// attributes the jar does not expose.
type cookieRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	set  []*http.Cookie
}

func (c *cookieRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err == nil {
		c.mu.Lock()
		c.set = append(c.set, resp.Cookies()...)
		c.mu.Unlock()
	}
	return resp, err
}

func (c *cookieRecorder) all() []*http.Cookie {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*http.Cookie(nil), c.set...)
}

// loadWith sends one request with client (which follows redirects itself)
// and returns the final response as a Page.
func loadWith(t *testing.T, client *http.Client, method, rawURL, contentType, body string) *Page {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
	if err != nil {
		t.Fatal(err)
	}
	return &Page{URL: resp.Request.URL, Method: method, Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// submitWith fills form formID of p and submits it with button, as a browser
// would, through client.
func submitWith(t *testing.T, client *http.Client, p *Page, formID, button string, fields map[string]string) *Page {
	t.Helper()
	f, err := p.Form(formID)
	if err != nil {
		t.Fatalf("%d %s: %v\n%s", p.Status, p.URL, err, p.Body)
	}
	for k, v := range fields {
		if err := f.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	values, err := f.Values(button)
	if err != nil {
		t.Fatal(err)
	}
	return loadWith(t, client, http.MethodPost, f.Action.String(), "application/x-www-form-urlencoded", values.Encode())
}
