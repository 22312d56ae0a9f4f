package oauthclient

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauthclient/oauthtest"
)

// TestJWTBearer runs RFC 7523 §2.1 assertion-only and with client
// authentication (ServiceNow style), and checks the error paths.
func TestJWTBearer(t *testing.T) {
	s := newFake(t)
	key := rsaKey(t)
	s.AddClient(oauthtest.Client{ID: "app", Secret: "sec", AuthMethod: "client_secret_post", Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "kid-1"}}})
	base := Assertion{Issuer: "app", Subject: "alice@example.com", Key: key, KeyID: "kid-1", Claims: map[string]any{"scope": "api"}}
	cases := []struct {
		name     string
		auth     ClientAuth
		mod      func(*Assertion)
		wantErr  string
		wantHint string
	}{
		{name: "assertion only", mod: func(*Assertion) {}},
		{name: "with client id and secret", auth: ClientAuth{Method: AuthClientSecretPost, ClientID: "app", ClientSecret: "sec"}, mod: func(*Assertion) {}},
		{name: "aud = client id", mod: func(a *Assertion) { a.Audience = "app" }},
		{name: "wrong audience", mod: func(a *Assertion) { a.Audience = "https://elsewhere" }, wantErr: "audience", wantHint: "wrong audience"},
		{name: "unknown kid", mod: func(a *Assertion) { a.KeyID = "nope" }, wantErr: "kid", wantHint: "unknown kid"},
		{name: "wrong secret", auth: ClientAuth{Method: AuthClientSecretPost, ClientID: "app", ClientSecret: "bad"}, mod: func(*Assertion) {}, wantErr: "invalid_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			tc.mod(&a)
			c := &Client{Issuer: s.Issuer, Auth: tc.auth}
			tok, err := c.JWTBearer(t.Context(), a, Params{})
			if tc.wantErr == "" {
				if err != nil || tok.AccessToken == "" {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var oe *Error
			if !errors.As(err, &oe) || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(oe.Hint(), tc.wantHint) {
				t.Fatalf("err = %v (hint %q)", err, hintOf(err))
			}
		})
	}
}

func hintOf(err error) string {
	var oe *Error
	if errors.As(err, &oe) {
		return oe.Hint()
	}
	return ""
}

// TestJWTBearerExpiredAssertion: the client clock is 10 minutes behind,
// so the server sees an expired assertion; the hint names clock skew.
func TestJWTBearerExpiredAssertion(t *testing.T) {
	s := newFake(t)
	key := rsaKey(t)
	s.AddClient(oauthtest.Client{ID: "app", AuthMethod: "private_key_jwt", Keys: []jose.JSONWebKey{{Key: key.Public()}}})
	c := &Client{Issuer: s.Issuer, Now: func() time.Time { return time.Now().Add(-10 * time.Minute) }}
	_, err := c.JWTBearer(t.Context(), Assertion{Issuer: "app", Subject: "u", Key: key, Lifetime: time.Minute}, Params{})
	if !strings.Contains(hintOf(err), "clock") {
		t.Fatalf("err = %v, hint %q", err, hintOf(err))
	}
}

func TestAssertionReservedClaims(t *testing.T) {
	c := &Client{TokenEndpoint: "https://as.example/token"}
	_, err := c.SignAssertion(Assertion{Issuer: "i", Subject: "s", Key: rsaKey(t), Claims: map[string]any{"exp": 1}})
	if err == nil {
		t.Fatal("extra claim exp accepted")
	}
	_, err = c.SignAssertion(Assertion{Issuer: "i", Subject: "s", Key: ecKey(t), Alg: jose.RS256})
	if err == nil {
		t.Fatal("RS256 with an EC key accepted (RFC 8725 §3.1)")
	}
}

// TestAuthorizationCodeFlow drives the whole code flow headless: PKCE,
// state, nonce, loopback listener, exchange, ID token verified with go-oidc,
// then a refresh.
func TestAuthorizationCodeFlow(t *testing.T) {
	s := newFake(t)
	redirect := "http://127.0.0.1:0/OauthRedirect"
	cases := []struct {
		name string
		reg  oauthtest.Client
		auth ClientAuth
	}{
		{"public client", oauthtest.Client{ID: "cli", AuthMethod: "none"}, ClientAuth{Method: AuthNone, ClientID: "cli"}},
		{"confidential basic", oauthtest.Client{ID: "web", Secret: "s", AuthMethod: "client_secret_basic"}, ClientAuth{Method: AuthClientSecretBasic, ClientID: "web", ClientSecret: "s"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Client{Issuer: s.Issuer, Auth: tc.auth}
			// The fake checks the exact redirect URI; register the one the
			// listener will get by resolving it first.
			ln, u, err := listenRedirect(redirect)
			if err != nil {
				t.Fatal(err)
			}
			ln.Close()
			tc.reg.RedirectURIs = []string{u.String()}
			s.AddClient(tc.reg)
			tok, err := c.AuthorizationCode(t.Context(), CodeOptions{
				RedirectURI: u.String(), Params: Params{Scopes: []string{"openid", "api"}},
				Browser: headlessBrowser(t, "alice", "wonderland"), Timeout: 10 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			if tok.IDTokenClaims["sub"] != "alice" || tok.RefreshToken == "" {
				t.Fatalf("token %+v", tok)
			}
			ref, err := c.Refresh(t.Context(), tok.RefreshToken, Params{})
			if err != nil || ref.AccessToken == "" || ref.RefreshToken == tok.RefreshToken {
				t.Fatalf("refresh: %+v %v", ref, err)
			}
		})
	}
}

func TestAuthorizationCodeDenied(t *testing.T) {
	s := newFake(t)
	ln, u, err := listenRedirect("http://127.0.0.1:0/cb")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	s.AddClient(oauthtest.Client{ID: "cli", AuthMethod: "none", RedirectURIs: []string{u.String()}})
	c := &Client{Issuer: s.Issuer, Auth: ClientAuth{Method: AuthNone, ClientID: "cli"}}
	_, err = c.AuthorizationCode(t.Context(), CodeOptions{RedirectURI: u.String(), Browser: headlessBrowser(t, "alice", "wrong"), Timeout: 10 * time.Second})
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != "access_denied" {
		t.Fatalf("err = %v", err)
	}
}

// TestCallbackChecks: state (RFC 6749 §10.12) and iss (RFC 9207) are
// verified before the code is taken.
func TestCallbackChecks(t *testing.T) {
	f := &codeFlow{c: &Client{Issuer: "https://as.example", md: &Metadata{AuthorizationResponseISSSupported: true}}, state: "st"}
	cases := []struct {
		name, query, want string
	}{
		{"good", "state=st&iss=https://as.example&code=abc", ""},
		{"missing state", "iss=https://as.example&code=abc", "state"},
		{"wrong state", "state=other&iss=https://as.example&code=abc", "state"},
		{"mix-up issuer", "state=st&iss=https://evil.example&code=abc", "mix-up"},
		{"missing iss", "state=st&code=abc", "lacks iss"},
		{"no code", "state=st&iss=https://as.example", "no code"},
		{"error", "state=st&iss=https://as.example&error=access_denied", "access_denied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, _ := parseQuery(tc.query)
			r := f.check(q)
			if tc.want == "" {
				if r.err != nil || r.code != "abc" {
					t.Fatalf("%+v", r)
				}
				return
			}
			if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
				t.Fatalf("err = %v", r.err)
			}
		})
	}
}

func TestRedirectURIMustBeLoopback(t *testing.T) {
	for _, u := range []string{"https://localhost:1717/cb", "http://example.com:1717/cb", "http://localhost:1717/cb?x=1", "::"} {
		if ln, _, err := listenRedirect(u); err == nil {
			ln.Close()
			t.Errorf("%s accepted", u)
		}
	}
}

func TestCodeFlowTimeout(t *testing.T) {
	s := newFake(t)
	c := &Client{Issuer: s.Issuer, Auth: ClientAuth{Method: AuthNone, ClientID: "cli"}}
	_, err := c.AuthorizationCode(t.Context(), CodeOptions{
		RedirectURI: "http://127.0.0.1:0/cb", NoBrowser: true, Timeout: 50 * time.Millisecond,
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestBrowserCommand(t *testing.T) {
	for goos, want := range map[string]string{"linux": "xdg-open", "darwin": "open", "windows": "rundll32", "freebsd": "xdg-open"} {
		if name, args := browserCommand(goos, "https://x/?a=b&c=d"); name != want || args[len(args)-1] != "https://x/?a=b&c=d" {
			t.Errorf("%s: %s %v", goos, name, args)
		}
	}
}
