package oidc

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

const (
	// testWS is the workspace every test registers its clients in; a fresh
	// one (not "default") proves nothing depends on the default workspace.
	testWS = "conformance"
	// rpRedirect is the conformance clients' redirect URI. Nothing listens
	// there: the scripted browser stops at the redirect and reads it.
	rpRedirect  = "https://rp.example.test/cb"
	rpRedirect2 = "https://rp2.example.test/cb"
	password    = "correct horse battery staple 42"
)

// htmlNode shortens element matchers in tests.
type htmlNode = html.Node

// env is one running server with the conformance setup: workspace testWS,
// a service with scope api:read, the static confidential clients "client"
// and "client2" (client_secret_basic) and "client-post"
// (client_secret_post), and the user "ada" with a password.
type env struct {
	base    string // e.g. http://127.0.0.1:41234
	issuer  string
	admin   string
	clock   *e2etest.Clock // advanced (code reuse after 30s, expiry, max_age) instead of sleeping
	logs    *e2etest.SyncBuffer
	secrets *e2etest.SecretList
	http    *http.Client // no cookies, no redirects
	dial    string       // when set, every connection goes to this address
	cfg     config.Resolved
	tlsConf *tls.Config     // trusts the test CA when the server speaks TLS
	srv     *e2etest.Server // nil for `latchkey serve` processes

	client, client2, clientPost clientCreds
	user                        testUser
}

type clientCreds struct {
	ID, Secret, RedirectURI, AuthMethod string
}

type testUser struct {
	ID, Username, Email, Password string
}

// envOptions varies newEnv.
type envOptions struct {
	dsn string // "" = SQLite in the test's temporary directory
	// tls, when set, serves HTTPS with its certificate files and trusts
	// its CA (the openid-client test).
	tls *testTLS
	// env adds LATCHKEY_* variables (SMTP, outbound rules).
	env map[string]string
}

// newEnv starts an in-process server on 127.0.0.1:0 and registers the
// conformance setup. The server stops at the end of the test; its log is
// then searched for every code, token, secret and password the test
// handled (SECURITY.md Q6, G8 "never log").
func newEnv(t *testing.T, opts envOptions) *env {
	t.Helper()
	e := &env{admin: "oidc-admin-" + e2etest.RandomToken(32), clock: &e2etest.Clock{}, logs: &e2etest.SyncBuffer{},
		secrets: newSecretList()}
	e.secrets.Add(e.admin)
	cfg := e2etest.Config{DataDir: t.TempDir(), DSN: opts.dsn, AdminToken: e.admin, Env: opts.env}
	if opts.tls != nil {
		cfg.Flags = map[string]string{"tls-cert": opts.tls.CertFile, "tls-key": opts.tls.KeyFile}
		e.tlsConf = opts.tls.clientConfig()
	}
	e.cfg = e2etest.LoadConfig(t, cfg)
	e.start(t)
	e.issuer = e.base + "/w/" + testWS
	e.http = noRedirectClient(e.transport())
	t.Cleanup(func() {
		e.srv.Stop(t)
		e.secrets.CheckLog(t, "server", e.logs.String())
	})
	e.setup(t)
	return e
}

// start runs a server with e.cfg until e.srv.Stop.
func (e *env) start(t *testing.T) {
	t.Helper()
	e.srv = e2etest.StartServer(t, e.cfg, e.clock.Now, e.logs)
	e.base = e.srv.BaseURL
}

// restart stops the server and starts a new one on the same address,
// data directory and database (SECURITY.md H5: nothing may depend on
// process memory).
func (e *env) restart(t *testing.T) {
	t.Helper()
	e.srv.Stop(t)
	// Keep-alive connections to the stopped server would answer EOF.
	e.http.CloseIdleConnections()
	u, _ := url.Parse(e.base)
	e.cfg.Listen = u.Host
	e.start(t)
}

// setup registers the workspace, service, clients and user.
func (e *env) setup(t *testing.T) {
	t.Helper()
	e.adminDo(t, http.MethodPost, "/workspaces", map[string]any{"id": testWS, "name": "Conformance"}, http.StatusCreated, nil)
	e.adminDo(t, http.MethodPost, "/workspaces/"+testWS+"/services", map[string]any{
		"id": "api", "name": "Example API", "identifier": "https://api.example.test",
		"scopes": []map[string]string{{"name": "api:read", "description": "Read your example data"}},
	}, http.StatusCreated, nil)
	e.client = e.createClient(t, testWS, clientSpec{ID: "client", RedirectURIs: []string{rpRedirect}})
	e.client2 = e.createClient(t, testWS, clientSpec{ID: "client2", RedirectURIs: []string{rpRedirect2}})
	e.clientPost = e.createClient(t, testWS, clientSpec{ID: "client-post", RedirectURIs: []string{rpRedirect},
		AuthMethod: "client_secret_post"})
	e.user = e.createUser(t, testWS, "ada", "ada@example.test")
}

// serviceScopes are the service scopes the test clients may request. The
// standard OpenID scopes (openid, profile, email, address, phone,
// offline_access) are allowed for every client and are not registered.
var serviceScopes = []string{"api:read"}

// clientSpec describes a client registered through the admin API.
type clientSpec struct {
	ID           string
	Type         string // "" = confidential
	AuthMethod   string // "" = client_secret_basic
	RedirectURIs []string
	Scopes       []string // nil = serviceScopes
	RequirePKCE  *bool    // nil = false for confidential clients (the Basic OP plan sends no PKCE)
	Trusted      bool
	Extra        map[string]any
}

func (s clientSpec) body() map[string]any {
	if s.AuthMethod == "" {
		s.AuthMethod = "client_secret_basic"
	}
	if s.Type == "" {
		s.Type = "confidential"
	}
	if s.Scopes == nil {
		s.Scopes = serviceScopes
	}
	if s.Type == "public" {
		s.AuthMethod = "none"
	}
	pkce := false
	if s.RequirePKCE != nil {
		pkce = *s.RequirePKCE
	} else if s.Type == "public" {
		pkce = true
	}
	b := map[string]any{
		"client_id": s.ID, "name": "Conformance " + s.ID, "type": s.Type,
		"token_endpoint_auth_method": s.AuthMethod, "redirect_uris": s.RedirectURIs, "scopes": s.Scopes,
		"grant_types":    []string{"authorization_code", "refresh_token"},
		"response_types": []string{"code"}, "require_pkce": pkce, "trusted": s.Trusted,
	}
	for k, v := range s.Extra {
		b[k] = v
	}
	return b
}

func (e *env) createClient(t *testing.T, ws string, s clientSpec) clientCreds {
	t.Helper()
	var out struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	e.adminDo(t, http.MethodPost, "/workspaces/"+ws+"/clients", s.body(), http.StatusCreated, &out)
	e.secrets.Add(out.ClientSecret)
	method := s.AuthMethod
	if method == "" {
		method = "client_secret_basic"
	}
	if s.Type == "public" {
		method = "none"
	}
	return clientCreds{ID: out.ClientID, Secret: out.ClientSecret, RedirectURI: s.RedirectURIs[0], AuthMethod: method}
}

// createUser creates a user with profile, address and phone claims and
// sets its password (docs/authorization-flow.md: PUT .../password, 204).
func (e *env) createUser(t *testing.T, ws, username, email string) testUser {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	e.adminDo(t, http.MethodPost, "/workspaces/"+ws+"/users", map[string]any{
		"username": username, "email": email, "display_name": "Ada Lovelace",
		"attributes": map[string]string{
			"given_name": "Ada", "family_name": "Lovelace", "phone_number": "+44 20 7946 0000",
			"address.street_address": "12 St James's Square", "address.locality": "London",
			"address.postal_code": "SW1Y 4LB", "address.country": "GB",
		},
	}, http.StatusCreated, &out)
	u := testUser{ID: out.ID, Username: username, Email: email, Password: password + " " + username}
	e.setPassword(t, ws, u.ID, u.Password)
	return u
}

func (e *env) setPassword(t *testing.T, ws, userID, pw string) {
	t.Helper()
	e.secrets.Add(pw)
	e.adminDo(t, http.MethodPut, "/workspaces/"+ws+"/users/"+userID+"/password", map[string]any{"password": pw},
		http.StatusNoContent, nil)
}

// adminDo calls the admin API and requires the status.
func (e *env) adminDo(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	r := e.adminRaw(t, method, path, body)
	e2etest.RequireAdminStatus(t, method, path, r.status, r.raw, want, out)
}

func (e *env) adminRaw(t *testing.T, method, path string, body any) reply {
	t.Helper()
	return e.send(t, e2etest.AdminRequest(t, e.base, e.admin, method, path, body))
}

// reply is a decoded HTTP response.
type reply struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

func (r reply) str(k string) string { s, _ := r.json[k].(string); return s }

func (e *env) send(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Redacted(), err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
	if err != nil {
		t.Fatalf("read %s: %v", req.URL.Redacted(), err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.json)
	return r
}

// browser returns a fresh scripted browser (its own cookie jar) whose
// connections go where the env's do.
func (e *env) browser() *Browser { return NewBrowser(e.transport()) }

func (e *env) transport() http.RoundTripper {
	switch {
	case e.dial != "":
		return dialTransport(e.dial, e.tlsConf)
	case e.tlsConf != nil:
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = e.tlsConf
		return tr
	}
	return nil
}

// postForm posts form to an endpoint of the workspace with the client's
// authentication (Basic, or the secret in the body for
// client_secret_post, or client_id only for public clients).
func (e *env) postForm(t *testing.T, path string, c clientCreds, form url.Values) reply {
	t.Helper()
	return e.postFormAt(t, e.issuer+path, c, form)
}

func (e *env) postFormAt(t *testing.T, endpoint string, c clientCreds, form url.Values) reply {
	t.Helper()
	form = cloneValues(form)
	switch c.AuthMethod {
	case "client_secret_post":
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	case "none":
		form.Set("client_id", c.ID)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.AuthMethod == "client_secret_basic" || c.AuthMethod == "" && c.Secret != "" {
		// RFC 6749 §2.3.1: form-urlencode both before base64.
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	r := e.send(t, req)
	e.secrets.AddToken(r.str("access_token"))
	e.secrets.Add(r.str("refresh_token"))
	e.secrets.AddToken(r.str("id_token"))
	return r
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// exchange redeems code at the token endpoint (RFC 6749 §4.1.3).
func (e *env) exchange(t *testing.T, c clientCreds, code string, extra url.Values) reply {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURI}}
	for k, vs := range extra {
		form[k] = vs
	}
	return e.postForm(t, "/oauth2/token", c, form)
}

// refresh uses a refresh token (RFC 6749 §6).
func (e *env) refresh(t *testing.T, c clientCreds, rt string, extra url.Values) reply {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	for k, vs := range extra {
		form[k] = vs
	}
	return e.postForm(t, "/oauth2/token", c, form)
}

// introspect asks whether tok is active, authenticated as c.
func (e *env) introspect(t *testing.T, c clientCreds, tok string) bool {
	t.Helper()
	r := e.postForm(t, "/oauth2/introspect", c, url.Values{"token": {tok}})
	if r.status != http.StatusOK {
		t.Fatalf("introspect: %d %s", r.status, r.raw)
	}
	active, _ := r.json["active"].(bool)
	return active
}

// userinfo calls the UserInfo endpoint (OIDC Core §5.3.1) with the token
// in the Authorization header (GET or POST) or, with inBody, in the POST
// body (RFC 6750 §2.2).
func (e *env) userinfo(t *testing.T, method, at string, inBody bool) reply {
	t.Helper()
	var body io.Reader
	if inBody {
		body = strings.NewReader(url.Values{"access_token": {at}}.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.issuer+"/oauth2/userinfo", body)
	if err != nil {
		t.Fatal(err)
	}
	if inBody {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req.Header.Set("Authorization", "Bearer "+at)
	}
	return e.send(t, req)
}

// discovery fetches the OpenID Provider metadata.
func (e *env) discovery(t *testing.T) reply {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.issuer+"/.well-known/openid-configuration", nil)
	r := e.send(t, req)
	if r.status != http.StatusOK {
		t.Fatalf("discovery: %d %s", r.status, r.raw)
	}
	return r
}

// get performs a plain GET without cookies or redirects.
func (e *env) get(t *testing.T, rawURL string, header http.Header) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return e.send(t, req)
}

func noRedirectClient(transport http.RoundTripper) *http.Client {
	return &http.Client{
		Transport:     transport,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// postgresSchemaDSN creates a fresh schema (dropped at cleanup) and
// returns a DSN selecting it; it skips the test without PostgreSQL.
func postgresSchemaDSN(t *testing.T) string {
	t.Helper()
	return e2etest.PostgresSchemaDSN(t, "lk_oidc_")
}

// newSecretList remembers every secret value a test handled (client
// secrets, passwords, codes, tokens) to prove none reached the log
// (SECURITY.md Q6, G8 "never log").
func newSecretList() *e2etest.SecretList { return &e2etest.SecretList{Rows: "Q6/G8"} }
