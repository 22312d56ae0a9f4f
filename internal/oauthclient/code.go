package oauthclient

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// DefaultRedirectURI is the loopback redirect URI CloudStreams-style guides
// register; it must be registered on the client exactly so.
const DefaultRedirectURI = "http://localhost:1717/OauthRedirect"

// DefaultCodeTimeout bounds how long the flow waits for the browser.
const DefaultCodeTimeout = 5 * time.Minute

// CodeOptions configure the authorization code flow.
type CodeOptions struct {
	// RedirectURI must be http on a loopback host (RFC 8252 §7.3);
	// port 0 picks a free port. Default DefaultRedirectURI.
	RedirectURI string
	Params      Params
	// AuthParams are added to the authorization request (prompt,
	// login_hint, ui_locales...).
	AuthParams url.Values
	// Browser opens the authorization URL; nil = the system browser.
	// With NoBrowser the URL is only printed to Out.
	Browser   func(ctx context.Context, authURL string) error
	NoBrowser bool
	Out       io.Writer
	Timeout   time.Duration
	// Secured pushes and signs the request and asks for a JWT response
	// (secured.go: RFC 9126, RFC 9101, JARM).
	Secured Secured
}

// callback is what the redirect listener received.
type callback struct {
	code string
	err  error
}

// AuthorizationCode runs the authorization code grant with PKCE S256
// (RFC 7636), a random state (RFC 6749 §10.12) and nonce (OIDC Core
// §3.1.2.1), through a loopback redirect listener, then exchanges the code
// and verifies the ID token when one is returned.
func (c *Client) AuthorizationCode(ctx context.Context, o CodeOptions) (*Token, error) {
	if err := c.Resolve(ctx); err != nil {
		return nil, err
	}
	if c.AuthorizationEndpoint == "" {
		return nil, errors.New("oauthclient: the server has no authorization_endpoint (give --authorization-endpoint)")
	}
	ln, redirect, err := listenRedirect(firstNonEmpty(o.RedirectURI, DefaultRedirectURI))
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	fl := &codeFlow{c: c, redirect: redirect, state: newJTI(), nonce: newJTI(), verifier: oauth2.GenerateVerifier(), secured: o.Secured}
	code, err := fl.authorize(ctx, ln, o)
	if err != nil {
		return nil, err
	}
	return fl.exchange(ctx, code, o.Params)
}

type codeFlow struct {
	c                      *Client
	redirect               *url.URL
	state, nonce, verifier string
	secured                Secured
}

func (f *codeFlow) authURL(o CodeOptions) string {
	cfg := oauth2.Config{
		ClientID: f.c.Auth.ClientID, RedirectURL: f.redirect.String(), Scopes: o.Params.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: f.c.AuthorizationEndpoint},
	}
	raw := cfg.AuthCodeURL(f.state, oauth2.S256ChallengeOption(f.verifier), oauth2.SetAuthURLParam("nonce", f.nonce))
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	for _, r := range o.Params.Resources {
		q.Add("resource", r)
	}
	for k, vs := range o.AuthParams {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (f *codeFlow) authorize(ctx context.Context, ln net.Listener, o CodeOptions) (string, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultCodeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	results := make(chan callback, 1)
	srv := &http.Server{Handler: f.handler(results), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer shutdown(srv)
	authURL, err := f.securedAuthURL(ctx, f.authURL(o), o.Secured)
	if err != nil {
		return "", err
	}
	if err := f.present(ctx, authURL, o); err != nil {
		return "", err
	}
	select {
	case r := <-results:
		return r.code, r.err
	case <-ctx.Done():
		// The common cause is an error page in the browser that the
		// listener never hears of, above all a redirect URI mismatch.
		return "", fmt.Errorf("oauthclient: no authorization response on %s: %w\n"+
			"hint: if the browser shows an error, read it there; for \"redirect_uri\" errors the redirect URI must be "+
			"registered on the client exactly as sent (a loopback URI registered without a port matches any port, RFC 8252 §7.3)",
			f.redirect, ctx.Err())
	}
}

func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

func (f *codeFlow) present(ctx context.Context, authURL string, o CodeOptions) error {
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	if o.NoBrowser {
		_, err := fmt.Fprintf(out, "Open this URL in a browser to sign in:\n\n  %s\n\n", authURL)
		return err
	}
	fmt.Fprintf(out, "Opening the browser. If it does not open, visit:\n\n  %s\n\n", authURL)
	open := o.Browser
	if open == nil {
		open = OpenSystemBrowser
	}
	if err := open(ctx, authURL); err != nil {
		fmt.Fprintf(out, "Could not open a browser (%v); open the URL above yourself.\n", err)
	}
	return nil
}

// handler serves the redirect URI path. The first response decides the
// outcome; later requests get a short page and change nothing.
func (f *codeFlow) handler(results chan<- callback) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != f.redirect.Path {
			http.NotFound(w, r)
			return
		}
		res := f.checkSecured(r.Context(), r.URL.Query())
		delivered := false
		once.Do(func() { results <- res; delivered = true })
		writeDonePage(w, res.err, delivered)
	})
}

// checkSecured unwraps a JWT-secured response (secured.go) before check.
func (f *codeFlow) checkSecured(ctx context.Context, q url.Values) callback {
	q, err := f.unwrapJWTResponse(ctx, q)
	if err != nil {
		return callback{err: err}
	}
	return f.check(q)
}

// check validates an authorization response: state (RFC 6749 §10.12),
// error (§4.1.2.1), iss (RFC 9207 §2.4), then the code.
func (f *codeFlow) check(q url.Values) callback {
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.state)) != 1 {
		return callback{err: errors.New("oauthclient: the authorization response has a wrong or missing state (possible CSRF); start again")}
	}
	if err := f.checkIssuer(q); err != nil {
		return callback{err: err}
	}
	if e := q.Get("error"); e != "" {
		return callback{err: &Error{Code: e, Description: q.Get("error_description"), URI: q.Get("error_uri")}}
	}
	if q.Get("code") == "" {
		return callback{err: errors.New("oauthclient: the authorization response has no code")}
	}
	return callback{code: q.Get("code")}
}

func (f *codeFlow) checkIssuer(q url.Values) error {
	iss, present := q.Get("iss"), q.Has("iss")
	md := f.c.md
	switch {
	case present && f.c.Issuer != "" && strings.TrimSuffix(iss, "/") != strings.TrimSuffix(f.c.Issuer, "/"):
		return fmt.Errorf("oauthclient: the authorization response comes from issuer %q, not %q (mix-up, RFC 9207)", iss, f.c.Issuer)
	case !present && md != nil && md.AuthorizationResponseISSSupported:
		return errors.New("oauthclient: the authorization response lacks iss although the server advertises it (RFC 9207 §2.4)")
	}
	return nil
}

func (f *codeFlow) exchange(ctx context.Context, code string, p Params) (*Token, error) {
	form := url.Values{
		"grant_type": {GrantAuthorizationCode}, "code": {code},
		"redirect_uri": {f.redirect.String()}, "code_verifier": {f.verifier},
	}
	if f.c.Auth.Method == AuthClientSecretBasic {
		// RFC 6749 §4.1.3: client_id is needed only for unauthenticated
		// clients; sending it with Basic is harmless and some servers want it.
		form.Set("client_id", f.c.Auth.ClientID)
	}
	for _, r := range p.Resources {
		form.Add("resource", r)
	}
	t, err := f.c.tokenRequest(ctx, form)
	if err != nil {
		return nil, err
	}
	if t.IDToken != "" {
		if err := f.c.verifyIDToken(ctx, t, f.nonce); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// listenRedirect binds the redirect URI's loopback host and port.
func listenRedirect(raw string) (net.Listener, *url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || !isLoopback(u.Hostname()) || u.RawQuery != "" || u.Fragment != "" {
		return nil, nil, fmt.Errorf("oauthclient: redirect URI %q: want http://localhost|127.0.0.1|[::1]:PORT/PATH (RFC 8252 §7.3)", raw)
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, nil, fmt.Errorf("oauthclient: cannot listen for the redirect on %s: %w", u.Host, err)
	}
	if u.Port() == "0" {
		_, p, _ := net.SplitHostPort(ln.Addr().String())
		u.Host = net.JoinHostPort(u.Hostname(), p)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return ln, u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
