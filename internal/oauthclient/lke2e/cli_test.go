package lke2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/internal/cli/keyscmd"
	"github.com/latchkey/latchkey/internal/cli/tokencmd"
	e2eoidc "github.com/latchkey/latchkey/internal/e2e/oidc"
	"github.com/latchkey/latchkey/internal/oauthclient"
)

// clock is shared by the server (server.WithClock) and the CLI: wall time
// plus an offset the tests advance instead of sleeping. cliSkew moves the
// CLI's clock alone, to play a machine whose clock is wrong.
type clock struct{ offset, cliSkew atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) CLINow() time.Time       { return c.Now().Add(time.Duration(c.cliSkew.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// cli runs "latchkey token ..." and "latchkey keys ..." in process through
// cobra, with its own environment variables, config file and clock.
type cli struct {
	t       *testing.T
	clk     *clock
	vars    map[string]string
	mu      sync.Mutex
	stderr  syncBuffer
	browser func(ctx context.Context, url string) error
	// onStderr, when set, sees everything the command writes to stderr
	// (the --no-browser authorization URL).
	onStderr func(string)
}

func newCLI(t *testing.T, clk *clock) *cli {
	c := &cli{t: t, clk: clk, vars: map[string]string{tokencmd.ConfigEnv: filepath.Join(t.TempDir(), "connections.yaml")}}
	return c
}

func (c *cli) setVar(k, v string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.vars[k] = v
}

func (c *cli) lookupEnv(k string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.vars[k]
	return v, ok
}

func noPrompt(label string) ([]byte, error) {
	return nil, fmt.Errorf("%s: the test gives every secret by env:NAME", label)
}

// token runs "latchkey token args..." until ctx ends and returns stdout.
func (c *cli) token(ctx context.Context, args ...string) (string, error) {
	var out bytes.Buffer
	c.stderr.reset(c.onStderr)
	cmd := tokencmd.NewCommandWith(tokencmd.Env{
		Stdout: &out, Stderr: &c.stderr, LookupEnv: c.lookupEnv, Prompt: noPrompt, Now: c.clk.CLINow, Browser: c.browser,
	})
	err := execute(ctx, cmd, args)
	return out.String(), err
}

func (c *cli) mustToken(args ...string) string {
	c.t.Helper()
	out, err := c.token(c.t.Context(), args...)
	if err != nil {
		c.t.Fatalf("latchkey token %s: %v\nstderr: %s", strings.Join(args, " "), err, c.stderr.String())
	}
	return out
}

// keys runs "latchkey keys args..." and returns stdout.
func (c *cli) keys(args ...string) string {
	c.t.Helper()
	var out bytes.Buffer
	cmd := keyscmd.NewCommandWith(keyscmd.Env{Stdout: &out, LookupEnv: c.lookupEnv, Prompt: noPrompt, Now: c.clk.CLINow})
	if err := execute(c.t.Context(), cmd, args); err != nil {
		c.t.Fatalf("latchkey keys %s: %v", strings.Join(args, " "), err)
	}
	return out.String()
}

func execute(ctx context.Context, cmd *cobra.Command, args []string) error {
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.ExecuteContext(ctx)
}

// syncBuffer is the command's stderr: read by the test while the command
// runs (the code flow prints the URL, then waits).
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	notify func(string)
}

func (s *syncBuffer) reset(notify func(string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
	s.notify = notify
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	n, err := s.b.Write(p)
	text, notify := s.b.String(), s.notify
	s.mu.Unlock()
	if notify != nil {
		notify(text)
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// jsonOut decodes "--output json".
func jsonOut(t *testing.T, out string) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not JSON: %v: %s", err, out)
	}
	return doc
}

func str(doc map[string]any, k string) string { s, _ := doc[k].(string); return s }

// user creates an active user (with a password when pw is set) and
// returns its ID.
func (lk *latchkey) user(t *testing.T, username, email, pw string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"username": username, "email": email, "display_name": username})
	id := str(lk.admin(t, "POST", "/admin/v1/workspaces/default/users", string(b)), "id")
	if id == "" {
		t.Fatal("user created without id")
	}
	if pw != "" {
		b, _ = json.Marshal(map[string]string{"password": pw})
		lk.admin(t, "PUT", "/admin/v1/workspaces/default/users/"+id+"/password", string(b))
	}
	return id
}

// registerClient creates a client from body and returns its secret.
func (lk *latchkey) registerClient(t *testing.T, body map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(body)
	return str(lk.admin(t, "POST", "/admin/v1/workspaces/default/clients", string(b)), "client_secret")
}

// verifyAccessToken checks an access token with go-oidc against the
// workspace's JWKS (signature, iss, exp at the shared clock) and returns
// its claims.
func (lk *latchkey) verifyAccessToken(t *testing.T, clk *clock, raw string) map[string]any {
	t.Helper()
	ctx := t.Context()
	keys := gooidc.NewRemoteKeySet(ctx, lk.issuer+"/oauth2/jwks")
	v := gooidc.NewVerifier(lk.issuer, keys, &gooidc.Config{SkipClientIDCheck: true, Now: clk.Now,
		SupportedSigningAlgs: []string{gooidc.RS256, gooidc.ES256, gooidc.PS256}})
	tok, err := v.Verify(ctx, strings.TrimSpace(raw))
	if err != nil {
		t.Fatalf("access token does not verify against %s/oauth2/jwks: %v", lk.issuer, err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// latchkeyBrowser is the person at the browser: it follows the
// authorization URL through Latchkey's sign-in and consent pages (by the
// field names of docs/authorization-flow.md) and then loads the redirect
// on the CLI's loopback listener, like a browser would. An error page of
// Latchkey is returned as *pageError.
func latchkeyBrowser(lk *latchkey, username, password string, seen *pagesSeen) func(ctx context.Context, authURL string) error {
	return func(ctx context.Context, authURL string) error {
		seen.opened.Add(1)
		b := e2eoidc.NewBrowser(nil)
		base, _ := url.Parse(lk.base)
		p, err := b.Get(ctx, authURL)
		for step := 0; err == nil && step < 12; step++ {
			switch {
			case p.IsRedirect():
				loc, lerr := p.Location()
				if lerr != nil {
					return lerr
				}
				if loc.Host != base.Host {
					return landOnCLI(ctx, b, loc)
				}
				p, err = b.Follow(ctx, p)
			case p.HasForm("login-form"):
				seen.logins.Add(1)
				p, err = submitLogin(ctx, b, p, username, password)
			case p.HasForm("consent-form"):
				seen.consents.Add(1)
				f, _ := p.Form("consent-form")
				p, err = b.Submit(ctx, f, "consent-allow")
			default:
				return pageErrorOf(p)
			}
		}
		if err != nil {
			return err
		}
		return errors.New("browser: the flow did not reach the redirect URI")
	}
}

// pagesSeen counts what the scripted browser did.
type pagesSeen struct{ opened, logins, consents atomic.Int64 }

func submitLogin(ctx context.Context, b *e2eoidc.Browser, p *e2eoidc.Page, username, password string) (*e2eoidc.Page, error) {
	f, err := p.Form("login-form")
	if err != nil {
		return nil, err
	}
	if err := f.Set("username", username); err != nil {
		return nil, err
	}
	if err := f.Set("password", password); err != nil {
		return nil, err
	}
	return b.Submit(ctx, f, "login-submit")
}

// landOnCLI loads the authorization response on the CLI's listener and
// checks its "you can close this window" page.
func landOnCLI(ctx context.Context, b *e2eoidc.Browser, loc *url.URL) error {
	p, err := b.Get(ctx, loc.String())
	if err != nil {
		return err
	}
	if p.Status != 200 || !strings.Contains(string(p.Body), "close this window") {
		return fmt.Errorf("browser: the CLI's page answered %d: %s", p.Status, p.Body)
	}
	return nil
}

// pageError is Latchkey's HTML error page (docs/authorization-flow.md:
// id="error" and id="error-description").
type pageError struct {
	Status            int
	Code, Description string
}

func (e *pageError) Error() string {
	return fmt.Sprintf("browser: error page %d: %s: %s", e.Status, e.Code, e.Description)
}

func pageErrorOf(p *e2eoidc.Page) error {
	code, ok := p.TextByID("error")
	if !ok {
		return fmt.Errorf("browser: unexpected page %d from %s", p.Status, p.URL)
	}
	desc, _ := p.TextByID("error-description")
	return &pageError{Status: p.Status, Code: code, Description: desc}
}

// freePort finds a loopback port for a client registered with an exact
// redirect URI (the listener binds it again a moment later).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// hintOf is the "hint:" line the CLI prints under a protocol error.
func hintOf(err error) string {
	if err == nil {
		return ""
	}
	_, h, _ := strings.Cut(err.Error(), "\nhint: ")
	return h
}

// oauthErr extracts the server's answer from a CLI error.
func oauthErr(t *testing.T, err error) *oauthclient.Error {
	t.Helper()
	var oe *oauthclient.Error
	if !errors.As(err, &oe) {
		t.Fatalf("not a protocol error: %v", err)
	}
	return oe
}
