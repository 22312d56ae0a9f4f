package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/grants/grantstest"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/service/servicetest"
	"github.com/latchkey/latchkey/internal/storage"
)

const flowRedirect = "https://app.example.com/cb"

// flowFixture is a running server with a confidential client "webapp",
// a user alice/correct-horse and a browser (cookie jar, no redirects).
type flowFixture struct {
	r       *running
	secret  string
	browser *http.Client
	issuer  string
}

func newFlowFixture(t testing.TB) *flowFixture {
	t.Helper()
	return newFlowFixtureWith(t, testConfig(t, seededDataDir(t), nil))
}

func newFlowFixtureWith(t testing.TB, cfg config.Resolved, opts ...Option) *flowFixture {
	t.Helper()
	r := start(t, cfg, opts...)
	ctx := t.Context()
	now := time.Now().UTC()
	secret := grantstest.NewSecret()
	ct, err := r.srv.keyring.Encrypt([]byte(secret), grantstest.SecretAAD("default", "webapp"))
	if err != nil {
		t.Fatal(err)
	}
	must(t, r.srv.store.CreateClient(ctx, storage.Client{
		WorkspaceID: "default", ID: "webapp", Name: "Web <App>", Enabled: true, CreatedAt: now.Add(-time.Minute), UpdatedAt: now,
		Type: oauth2.ClientConfidential, GrantTypes: []string{oauth2.GrantAuthorizationCode, oauth2.GrantRefreshToken},
		RedirectURIs: []string{flowRedirect}, TokenEndpointAuthMethod: oauth2.AuthClientSecretBasic,
		SecretCiphertext: ct, PolicyURI: "https://app.example.com/privacy", LogoURI: "javascript:alert(1)",
	}))
	must(t, r.srv.store.CreateUser(ctx, storage.User{
		WorkspaceID: "default", ID: "u-alice", Username: "alice", Email: "alice@example.com", DisplayName: "Alice Liddell",
		Active: true, Attributes: map[string]string{"given_name": "Alice", "email_verified": "true"}, CreatedAt: now, UpdatedAt: now,
	}))
	must(t, r.srv.store.SetUserPassword(ctx, storage.UserPassword{WorkspaceID: "default", UserID: "u-alice",
		Hash: servicetest.PasswordHash("correct-horse"), ChangedAt: now}))
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &flowFixture{r: r, secret: secret, browser: browser, issuer: r.srv.BaseURL() + "/w/default"}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *flowFixture) do(t testing.TB, method, target string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, target, body)
	must(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := f.browser.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfOf(t testing.TB, page string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf_token in page:\n%s", page)
	}
	return m[1]
}

func pkce() (verifier, challenge string) {
	verifier = grantstest.NewSecret()
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func expectStatus(t testing.TB, resp *http.Response, body string, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want, body)
	}
}

// authorize runs authorize → sign-in → consent and returns the code.
func (f *flowFixture) authorize(t testing.TB, scope, challenge, state string) string {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {"webapp"}, "redirect_uri": {flowRedirect},
		"scope": {scope}, "state": {state}, "nonce": {"n-0S6"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	if challenge == "" {
		q.Del("code_challenge")
		q.Del("code_challenge_method")
	}
	resp, body := f.do(t, http.MethodGet, f.issuer+"/oauth2/authorize?"+q.Encode(), nil)
	expectStatus(t, resp, body, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	if strings.Contains(loc, "/login?") {
		resp, body = f.do(t, http.MethodGet, loc, nil)
		expectStatus(t, resp, body, http.StatusOK)
		if !strings.Contains(body, `id="login-form"`) || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Fatalf("login page: %v\n%s", resp.Header, body)
		}
		reqID := url.Values{}
		u, _ := url.Parse(loc)
		reqID.Set("request_id", u.Query().Get("request_id"))
		resp, body = f.do(t, http.MethodPost, f.issuer+"/login", url.Values{"username": {"alice"}, "password": {"correct-horse"},
			"request_id": {u.Query().Get("request_id")}, "csrf_token": {csrfOf(t, body)}, "action": {"login"}})
		expectStatus(t, resp, body, http.StatusSeeOther) // E11
		loc = resp.Header.Get("Location")
	}
	if strings.Contains(loc, "/consent?") {
		resp, body = f.do(t, http.MethodGet, loc, nil)
		if resp.StatusCode == http.StatusSeeOther { // consent remembered
			loc = resp.Header.Get("Location")
		}
	}
	if strings.Contains(loc, "/consent?") {
		expectStatus(t, resp, body, http.StatusOK)
		if strings.Contains(body, "<App>") || strings.Contains(body, "javascript:") || !strings.Contains(body, `data-scope="openid"`) {
			t.Fatalf("consent page escapes or scopes wrong (K10):\n%s", body)
		}
		u, _ := url.Parse(loc)
		resp, body = f.do(t, http.MethodPost, f.issuer+"/consent", url.Values{"request_id": {u.Query().Get("request_id")},
			"csrf_token": {csrfOf(t, body)}, "action": {"allow"}})
		expectStatus(t, resp, body, http.StatusSeeOther)
		loc = resp.Header.Get("Location")
	}
	u, err := url.Parse(loc)
	must(t, err)
	q = u.Query()
	if !strings.HasPrefix(loc, flowRedirect+"?") || q.Get("state") != state || q.Get("iss") != f.issuer || q.Get("code") == "" {
		t.Fatalf("authorization response %s", loc)
	}
	return q.Get("code")
}

type tokenResp struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
}

func (f *flowFixture) token(t testing.TB, form url.Values, wantStatus int) tokenResp {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.issuer+"/oauth2/token", strings.NewReader(form.Encode()))
	must(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("webapp", f.secret)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	var tr tokenResp
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &tr)
	if resp.StatusCode != wantStatus || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token: status %d (want %d), Cache-Control %q: %s", resp.StatusCode, wantStatus, resp.Header.Get("Cache-Control"), b)
	}
	return tr
}

func (f *flowFixture) introspectActive(t testing.TB, tok string) bool {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, f.issuer+"/oauth2/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("webapp", f.secret)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	var v struct{ Active bool }
	must(t, json.NewDecoder(resp.Body).Decode(&v))
	return v.Active
}

func (f *flowFixture) userinfo(t testing.TB, at string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.issuer+"/oauth2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	var claims map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&claims)
	return resp.StatusCode, claims
}

// TestAuthorizationCodeFlow drives the whole flow through the real server:
// authorize → sign-in → consent → code → tokens → ID token verified with
// go-oidc → UserInfo → refresh rotation → reuse detection (G1, H1).
func TestAuthorizationCodeFlow(t *testing.T) {
	f := newFlowFixture(t)
	verifier, challenge := pkce()
	code := f.authorize(t, "openid profile email offline_access", challenge, "st-1")
	tr := f.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {flowRedirect},
		"code_verifier": {verifier}}, http.StatusOK)
	if tr.RefreshToken == "" || tr.IDToken == "" || tr.AccessToken == "" {
		t.Fatalf("token response %+v", tr)
	}

	provider, err := oidc.NewProvider(context.Background(), f.issuer)
	must(t, err)
	idt, err := provider.Verifier(&oidc.Config{ClientID: "webapp"}).Verify(t.Context(), tr.IDToken)
	must(t, err)
	must(t, idt.VerifyAccessToken(tr.AccessToken))
	var claims struct {
		Nonce    string `json:"nonce"`
		AuthTime int64  `json:"auth_time"`
		SID      string `json:"sid"`
	}
	must(t, idt.Claims(&claims))
	if idt.Subject != "u-alice" || claims.Nonce != "n-0S6" || claims.AuthTime == 0 || claims.SID == "" {
		t.Fatalf("id token sub %q claims %+v", idt.Subject, claims)
	}

	status, info := f.userinfo(t, tr.AccessToken)
	if status != http.StatusOK || info["sub"] != "u-alice" || info["email"] != "alice@example.com" ||
		info["given_name"] != "Alice" || info["email_verified"] != true {
		t.Fatalf("userinfo %d %v", status, info)
	}

	// G1: a second redemption fails and revokes what the code issued.
	f.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {flowRedirect},
		"code_verifier": {verifier}}, http.StatusBadRequest)
	if f.introspectActive(t, tr.AccessToken) {
		t.Fatal("access token still active after code reuse (G1)")
	}
	if status, _ := f.userinfo(t, tr.AccessToken); status != http.StatusUnauthorized {
		t.Fatalf("userinfo after code reuse: %d", status)
	}
	f.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}, http.StatusBadRequest)
}

// TestRefreshRotationAndReuse: RT1 → RT2 works; replaying RT1 revokes the
// family, so RT2 and the family's access tokens stop working (H1).
func TestRefreshRotationAndReuse(t *testing.T) {
	f := newFlowFixture(t)
	verifier, challenge := pkce()
	code := f.authorize(t, "openid offline_access", challenge, "st")
	tr := f.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {flowRedirect},
		"code_verifier": {verifier}}, http.StatusOK)
	if !f.introspectActive(t, tr.RefreshToken) {
		t.Fatal("refresh token not active at introspection")
	}
	// H8: the scope may only narrow.
	f.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "scope": {"openid email"}}, http.StatusBadRequest)
	next := f.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "scope": {"openid"}}, http.StatusOK)
	if next.RefreshToken == "" || next.RefreshToken == tr.RefreshToken || next.Scope != "openid" || next.IDToken == "" {
		t.Fatalf("refresh response %+v", next)
	}
	f.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}, http.StatusBadRequest)
	f.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next.RefreshToken}}, http.StatusBadRequest)
	if f.introspectActive(t, next.AccessToken) {
		t.Fatal("access token of a revoked family is active (H1)")
	}
}

// TestRememberedConsentAndPromptNone: the second authorization in the same
// browser needs neither sign-in nor consent, and prompt=none succeeds
// silently; a fresh browser with prompt=none gets login_required (E14).
func TestRememberedConsentAndPromptNone(t *testing.T) {
	f := newFlowFixture(t)
	_, challenge := pkce()
	f.authorize(t, "openid", challenge, "a")
	q := url.Values{"response_type": {"code"}, "client_id": {"webapp"}, "redirect_uri": {flowRedirect},
		"scope": {"openid"}, "state": {"b"}, "prompt": {"none"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	resp, body := f.do(t, http.MethodGet, f.issuer+"/oauth2/authorize?"+q.Encode(), nil)
	expectStatus(t, resp, body, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, flowRedirect+"?code=") && !strings.Contains(loc, "code=") {
		t.Fatalf("prompt=none with a session: %s", loc)
	}
	jar, _ := cookiejar.New(nil)
	f.browser.Jar = jar
	resp, body = f.do(t, http.MethodGet, f.issuer+"/oauth2/authorize?"+q.Encode(), nil)
	expectStatus(t, resp, body, http.StatusSeeOther)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("error") != "login_required" || loc.Query().Get("iss") != f.issuer || loc.Query().Get("state") != "b" {
		t.Fatalf("prompt=none without a session: %s", loc)
	}
}
