package console_test

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

const adminToken = "test-admin-token-0123456789-abcdefghijklmnop"

type env struct {
	t    *testing.T
	base string
	box  *e2etest.Mailbox
}

// startServer starts a server on SQLite in t.TempDir() that mails
// through a fresh e2etest.Mailbox, stopped at the end of the test. The
// default workspace signs with ES256: generating its RS256 key would be
// most of the start-up time, and no test here is about the algorithm.
func startServer(t *testing.T) *env {
	t.Helper()
	return startServerDSN(t, "")
}

// startServerDSN is startServer on the storage of dsn ("" = SQLite).
func startServerDSN(t *testing.T, dsn string) *env {
	t.Helper()
	box := e2etest.StartMailbox(t)
	vars := box.Env()
	vars["LATCHKEY_KEYS_SIGNING_ALG"] = "ES256"
	cfg := e2etest.LoadConfig(t, e2etest.Config{DataDir: t.TempDir(), DSN: dsn, AdminToken: adminToken, Env: vars})
	srv := e2etest.StartServer(t, cfg, time.Now, io.Discard)
	t.Cleanup(func() { srv.Stop(t) })
	return &env{t: t, base: srv.BaseURL, box: box}
}

// browser is one cookie jar.
type browser struct {
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

func (b *browser) get(path string) (*http.Response, string) {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.base + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.e.t.Helper()
	resp, err := b.c.PostForm(b.e.base+path, form)
	if err != nil {
		b.e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// As console.js does, a page that names its own address (data-url,
	// for a page a POST rendered) shows that address.
	if u := between(string(body), `<main id="main" data-url="`, `"`); u != "" {
		resp.Request.URL.Path = html.UnescapeString(u)
	}
	return resp, string(body)
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", body)
	}
	return m[1]
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.e.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func wantStatus(t *testing.T, what string, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s: status %d, want %d", what, resp.StatusCode, want)
	}
}

// setupAdmin creates the first admin through the console (bootstrap token).
func (b *browser) setupAdmin(t *testing.T) string {
	resp, body := b.get("/console/")
	wantStatus(t, "setup page", resp, 200)
	if !strings.Contains(resp.Request.URL.Path, "/console/setup") {
		t.Fatalf("no admin yet: landed on %s, want /console/setup", resp.Request.URL.Path)
	}
	tok := csrf(t, body)
	form := url.Values{"csrf_token": {tok}, "bootstrap_token": {"wrong-token"}, "username": {"root"}, "password": {"correct horse battery"}}
	resp, _ = b.post("/console/setup", form)
	wantStatus(t, "setup with a wrong bootstrap token", resp, 401)
	form.Set("bootstrap_token", adminToken)
	resp, body = b.post("/console/setup", form)
	wantStatus(t, "setup", resp, 200)
	if !strings.HasSuffix(resp.Request.URL.Path, "/w/default/clients") {
		t.Fatalf("after setup: %s", resp.Request.URL.Path)
	}
	return csrf(t, body)
}

func TestConsoleEndToEnd(t *testing.T) {
	e := startServer(t)
	b := e.browser()
	tok := b.setupAdmin(t)

	// K5/K12 headers on every page.
	resp, _ := b.get("/console/w/default/clients")
	for k, want := range map[string]string{
		"X-Frame-Options": "DENY", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}

	// Setup page is closed once an admin exists.
	resp, _ = e.browser().get("/console/setup")
	wantStatus(t, "setup after the first admin", resp, 404)

	// A service with the seed's scopes.
	resp, _ = b.post("/console/w/default/services/new", url.Values{"csrf_token": {tok}, "name": {"API"},
		"identifier": {"https://api.example"}, "scopes": {"api Access the API\nrefresh_token Refresh tokens"}})
	wantStatus(t, "create service", resp, 200)

	// K10: a hostile client name is escaped.
	const evil = `<img src=x onerror=alert(1)>`
	resp, body := b.post("/console/w/default/clients/new", url.Values{"csrf_token": {tok}, "name": {evil},
		"type": {"service"}, "contact_email": {"owner@example.com"}})
	wantStatus(t, "create client", resp, 200)
	if strings.Contains(body, evil) || !strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Fatal("K10: client name not escaped")
	}
	clientPath := strings.TrimSuffix(resp.Request.URL.Path, "/overview")
	clientID := clientPath[strings.LastIndex(clientPath, "/")+1:]

	// K1: a POST without or with a foreign CSRF token changes nothing.
	resp, _ = b.post(clientPath+"/scopes", url.Values{"scopes": {"api"}})
	wantStatus(t, "K1 POST without CSRF token", resp, 403)
	resp, _ = b.post(clientPath+"/scopes", url.Values{"scopes": {"api"}, "csrf_token": {"forged"}})
	wantStatus(t, "K1 POST with a forged CSRF token", resp, 403)

	resp, body = b.post(clientPath+"/scopes", url.Values{"csrf_token": {tok}, "scopes": {"api", "refresh_token"}})
	wantStatus(t, "save scopes", resp, 200)
	if !strings.Contains(body, `value="api" checked`) {
		t.Fatal("scopes not saved")
	}

	// E3: the OAuth tab validates redirect URIs like the API.
	resp, body = b.post(clientPath+"/oauth", url.Values{"csrf_token": {tok}, "grant_types": {"client_credentials"},
		"redirect_uris": {"javascript:alert(1)"}, "token_endpoint_auth_method": {"client_secret_basic"}})
	wantStatus(t, "E3 javascript: redirect URI", resp, 400)
	if !strings.Contains(body, "redirect_uris[0]") {
		t.Fatal("validation message does not name the field")
	}

	// View secret with the code e-mailed to the contact address.
	resp, _ = b.post(clientPath+"/action/secret-code", url.Values{"csrf_token": {tok}})
	wantStatus(t, "send code", resp, 200)
	code := e.box.WaitFor(t, regexp.MustCompile(`code is (\d{6})`))
	resp, body = b.post(clientPath+"/action/secret-reveal", url.Values{"csrf_token": {tok}, "code": {"000000"}})
	if code[1] != "000000" {
		wantStatus(t, "wrong code", resp, 400)
		if !strings.Contains(body, "4 tries left") {
			t.Fatal("wrong code: tries left not shown")
		}
	}
	resp, body = b.post(clientPath+"/action/secret-reveal", url.Values{"csrf_token": {tok}, "code": {code[1]}})
	wantStatus(t, "reveal", resp, 200)
	secret := regexp.MustCompile(`id="client-secret"[^>]*>([^<]+)<`).FindStringSubmatch(body)
	if secret == nil {
		t.Fatal("secret not shown")
	}
	// The code is single use.
	resp, _ = b.post(clientPath+"/action/secret-reveal", url.Values{"csrf_token": {tok}, "code": {code[1]}})
	wantStatus(t, "code reuse", resp, 400)

	// The revealed secret gets a token.
	cc := clientcredentials.Config{ClientID: clientID, ClientSecret: secret[1], TokenURL: e.base + "/w/default/oauth2/token", Scopes: []string{"api"}}
	if _, err := cc.Token(t.Context()); err != nil {
		t.Fatalf("client_credentials with the revealed secret: %v", err)
	}

	// Audit: the view is recorded, by this admin.
	_, body = b.get("/console/w/default/audit?client=" + url.QueryEscape(clientID))
	if !strings.Contains(body, "client.secret.view") || !strings.Contains(body, "root") {
		t.Fatal("audit log lacks the secret view")
	}

	// Every tab renders.
	for _, tab := range []string{"overview", "oauth", "scopes", "endpoints", "metadata", "credentials"} {
		resp, body = b.get(clientPath + "/" + tab)
		wantStatus(t, "tab "+tab, resp, 200)
		if strings.Contains(body, evil) {
			t.Fatalf("K10: tab %s renders the raw name", tab)
		}
	}
	if !strings.Contains(body, clientID) {
		t.Fatal("credentials tab lacks the client ID")
	}
	for _, p := range []string{"/console/w/default/services", "/console/w/default/keys", "/console/w/default/settings", "/console/outbox", "/console/users", "/console/workspaces/new"} {
		resp, _ = b.get(p)
		wantStatus(t, p, resp, 200)
	}
}

func TestConsoleSessionsAndRoles(t *testing.T) {
	e := startServer(t)
	root := e.browser()
	tok := root.setupAdmin(t)

	// K6: cookie flags (plain http: unprefixed name, no Secure).
	resp, err := http.Get(e.base + "/console/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if !c.HttpOnly || c.Path != "/" || c.Domain != "" || c.SameSite != http.SameSiteStrictMode {
			t.Errorf("pre-session cookie %s flags: %+v", c.Name, c)
		}
	}

	resp, _ = root.post("/console/users", url.Values{"csrf_token": {tok}, "username": {"viewer"}, "password": {"viewer password 1"},
		"role": {"workspace_viewer"}, "workspaces": {"default"}})
	wantStatus(t, "create viewer", resp, 200)

	// K4: the session ID changes at sign-in; the old value is useless.
	v := e.browser()
	_, body := v.get("/console/signin")
	u, _ := url.Parse(e.base)
	v.c.Jar.SetCookies(u, []*http.Cookie{{Name: "latchkey_console", Value: "attacker-chosen-session-id", Path: "/"}})
	resp, _ = v.post("/console/signin", url.Values{"csrf_token": {csrf(t, body)}, "username": {"viewer"}, "password": {"wrong password!"}})
	wantStatus(t, "K8 wrong password", resp, 401)
	_, body = v.get("/console/signin")
	resp, body = v.post("/console/signin", url.Values{"csrf_token": {csrf(t, body)}, "username": {"viewer"}, "password": {"viewer password 1"}})
	wantStatus(t, "viewer sign-in", resp, 200)
	sid := v.cookie("latchkey_console")
	if sid == "" || sid == "attacker-chosen-session-id" {
		t.Fatalf("K4: session id after sign-in = %q", sid)
	}

	// O4: a viewer reads but cannot change anything, even with a valid token.
	vtok := csrf(t, body)
	resp, _ = v.post("/console/w/default/clients/new", url.Values{"csrf_token": {vtok}, "name": {"x"}, "type": {"service"}})
	wantStatus(t, "O4 viewer creates a client", resp, 403)
	resp, _ = v.post("/console/w/default/keys/rotate", url.Values{"csrf_token": {vtok}})
	wantStatus(t, "O4 viewer rotates keys", resp, 403)
	resp, _ = v.get("/console/outbox")
	wantStatus(t, "O4 viewer reads the outbox", resp, 403)
	resp, _ = v.get("/console/users")
	wantStatus(t, "O4 viewer lists console users", resp, 403)
	resp, _ = v.get("/console/w/default/clients")
	wantStatus(t, "viewer reads clients", resp, 200)

	// K1: the root's CSRF token does not work in the viewer's session.
	resp, _ = root.post("/console/w/default/clients/new", url.Values{"csrf_token": {vtok}, "name": {"x"}, "type": {"service"}})
	wantStatus(t, "K1 token of another session", resp, 403)

	// Sign out ends the session server-side.
	resp, _ = v.post("/console/signout", url.Values{"csrf_token": {vtok}})
	wantStatus(t, "sign out", resp, 200)
	v.c.Jar.SetCookies(u, []*http.Cookie{{Name: "latchkey_console", Value: sid, Path: "/"}})
	resp, _ = v.get("/console/w/default/clients")
	if !strings.HasSuffix(resp.Request.URL.Path, "/console/signin") {
		t.Fatal("old session still valid after sign out")
	}
}
