package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// httpClient talks to one server the way an outside client does.
type httpClient struct {
	leaks *e2etest.SecretList
}

// reply is a decoded HTTP answer.
type reply struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

func (r reply) str(key string) string {
	s, _ := r.json[key].(string)
	return s
}

// do sends req and reads the whole answer; JSON bodies are decoded.
func (c *httpClient) do(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	r := reply{status: resp.StatusCode, header: resp.Header, raw: readAll(t, resp.Body)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && len(r.raw) > 0 {
		if err := json.Unmarshal(r.raw, &r.json); err != nil {
			t.Fatalf("%s %s: JSON body: %v: %s", req.Method, req.URL, err, r.raw)
		}
	}
	return r
}

func newRequest(t *testing.T, method, target string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	return req
}

// get fetches target.
func (c *httpClient) get(t *testing.T, target string) reply {
	t.Helper()
	return c.do(t, newRequest(t, http.MethodGet, target, nil))
}

// basic is a client_secret_basic credential; zero means none.
type basic struct{ id, secret string }

// postForm sends an application/x-www-form-urlencoded POST, with
// client_secret_basic credentials encoded per RFC 6749 §2.3.1 when given.
func (c *httpClient) postForm(t *testing.T, target string, form url.Values, cred basic) reply {
	t.Helper()
	req := newRequest(t, http.MethodPost, target, []byte(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cred.id != "" {
		req.SetBasicAuth(url.QueryEscape(cred.id), url.QueryEscape(cred.secret))
	}
	return c.do(t, req)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}

// adminDo sends an admin API request with the admin bearer token and a JSON
// body (when body is non-nil).
func (lk *instance) adminDo(t *testing.T, method, path string, body any) reply {
	t.Helper()
	return lk.client.do(t, e2etest.AdminRequest(t, lk.base, lk.admin, method, path, body))
}

// adminOK is adminDo that fails the test unless the status is want, and
// decodes the answer into out (when non-nil).
func (lk *instance) adminOK(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	r := lk.adminDo(t, method, path, body)
	e2etest.RequireAdminStatus(t, method, path, r.status, r.raw, want, out)
}

// createWorkspace creates a workspace signing with alg ("" = default).
func (lk *instance) createWorkspace(t *testing.T, id, alg string) {
	t.Helper()
	body := map[string]any{"id": id, "name": "Workspace " + id}
	if alg != "" {
		body["settings"] = map[string]any{"signing_alg": alg}
	}
	lk.adminOK(t, http.MethodPost, "/workspaces", body, http.StatusCreated, nil)
}

// createService creates a resource server with the given scopes.
func (lk *instance) createService(t *testing.T, ws, id, identifier string, scopes ...string) {
	t.Helper()
	list := make([]map[string]string, len(scopes))
	for i, s := range scopes {
		list[i] = map[string]string{"name": s, "description": "e2e scope " + s}
	}
	body := map[string]any{"id": id, "name": "Service " + id, "description": "e2e", "identifier": identifier, "scopes": list}
	lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/services", body, http.StatusCreated, nil)
}

// clientInfo is the admin API's client representation (the fields the
// tests read).
type clientInfo struct {
	ClientID                string            `json:"client_id"`
	ClientSecret            string            `json:"client_secret"`
	Enabled                 bool              `json:"enabled"`
	Name                    string            `json:"name"`
	Scopes                  []string          `json:"scopes"`
	TokenEndpointAuthMethod string            `json:"token_endpoint_auth_method"`
	Metadata                map[string]string `json:"metadata"`
}

// createClient creates a client from body (admin API JSON) and remembers
// its secret for the log check.
func (lk *instance) createClient(t *testing.T, ws string, body map[string]any) clientInfo {
	t.Helper()
	var c clientInfo
	lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/clients", body, http.StatusCreated, &c)
	lk.leaks.Add(c.ClientSecret)
	if c.ClientID == "" {
		t.Fatalf("created client has no client_id")
	}
	return c
}

// secretClient creates a confidential client_credentials client using a
// client secret with method, allowed scopes.
func (lk *instance) secretClient(t *testing.T, ws, method string, scopes ...string) clientInfo {
	t.Helper()
	c := lk.createClient(t, ws, map[string]any{
		"name": "e2e " + method, "grant_types": []string{"client_credentials"},
		"token_endpoint_auth_method": method, "scopes": scopes,
	})
	if len(c.ClientSecret) < 43 { // 256 bits, base64url
		t.Fatalf("client secret of %d characters, want >= 43 (256 bits)", len(c.ClientSecret))
	}
	return c
}

// ccConfig is the x/oauth2 client credentials configuration of c.
func ccConfig(tokenURL string, c clientInfo, style oauth2.AuthStyle, scopes []string, params url.Values) *clientcredentials.Config {
	return &clientcredentials.Config{
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: tokenURL,
		Scopes: scopes, EndpointParams: params, AuthStyle: style,
	}
}

// fetchToken gets a token with x/oauth2 and remembers it for the log check.
func (lk *instance) fetchToken(t *testing.T, cfg *clientcredentials.Config) (*oauth2.Token, error) {
	t.Helper()
	tok, err := cfg.Token(t.Context())
	if err == nil {
		lk.leaks.AddToken(tok.AccessToken)
	}
	return tok, err
}

// mustToken is fetchToken that fails the test on error.
func (lk *instance) mustToken(t *testing.T, cfg *clientcredentials.Config) *oauth2.Token {
	t.Helper()
	tok, err := lk.fetchToken(t, cfg)
	if err != nil {
		t.Fatalf("client_credentials token for %s: %v", cfg.ClientID, err)
	}
	return tok
}

// secretToken gets a token for a client_secret_basic client of ws.
func (lk *instance) secretToken(t *testing.T, ws string, c clientInfo) string {
	t.Helper()
	return lk.mustToken(t, ccConfig(lk.wsURL(ws)+"/oauth2/token", c, oauth2.AuthStyleInHeader, nil, nil)).AccessToken
}

// wantOAuthError checks that err is an RFC 6749 §5.2 error answer of the
// token endpoint with status and code.
func wantOAuthError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a token endpoint error %d %s", err, status, code)
	}
	if re.Response.StatusCode != status || re.ErrorCode != code {
		t.Fatalf("got %d %q (%s), want %d %s", re.Response.StatusCode, re.ErrorCode, re.Body, status, code)
	}
	if cc := re.Response.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("error response Cache-Control %q, want no-store", cc)
	}
}

// introspect calls RFC 7662 introspection of ws as cred and returns the
// decoded answer (status must be 200).
func (lk *instance) introspect(t *testing.T, ws, token string, cred basic) reply {
	t.Helper()
	r := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/introspect", url.Values{"token": {token}}, cred)
	if r.status != http.StatusOK {
		t.Fatalf("introspect: status %d: %s", r.status, r.raw)
	}
	return r
}

// wantActive checks an introspection answer's "active" member. Inactive
// answers must carry nothing else (RFC 7662 §2.2, SECURITY.md I2).
func wantActive(t *testing.T, r reply, want bool) {
	t.Helper()
	active, ok := r.json["active"].(bool)
	if !ok || active != want {
		t.Fatalf("introspection active=%v, want %v: %s", r.json["active"], want, r.raw)
	}
	if !want && len(r.json) != 1 {
		t.Fatalf("inactive introspection answer has other members (I2): %s", r.raw)
	}
}

// revoke calls RFC 7009 revocation of ws as cred; the answer must be 200.
func (lk *instance) revoke(t *testing.T, ws, token string, cred basic) {
	t.Helper()
	r := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/revoke", url.Values{"token": {token}}, cred)
	if r.status != http.StatusOK {
		t.Fatalf("revoke: status %d: %s", r.status, r.raw)
	}
}

// atClaims are the RFC 9068 §2.2 claims of an access token.
type atClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience []string `json:"-"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
	JTI      string   `json:"jti"`
	IssuedAt int64    `json:"iat"`
	Expiry   int64    `json:"exp"`
	KID      string   `json:"-"`
	Alg      string   `json:"-"`
}

// verifyWithOIDC verifies raw with go-oidc against the workspace JWKS
// fetched from jwksURL (a fresh key set, so nothing cached before counts),
// accepting only alg, and checks the RFC 9068 header (typ "at+jwt") and
// that the required claims are present.
func verifyWithOIDC(t *testing.T, issuer, jwksURL, raw, alg string) atClaims {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	keySet := oidc.NewRemoteKeySet(ctx, jwksURL)
	return verifyWithKeySet(t, ctx, issuer, keySet, raw, alg)
}

func verifyWithKeySet(t *testing.T, ctx context.Context, issuer string, keySet oidc.KeySet, raw, alg string) atClaims {
	t.Helper()
	v := oidc.NewVerifier(issuer, keySet, &oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{alg}})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc verification (%s): %v", alg, err)
	}
	var c atClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatalf("claims: %v", err)
	}
	c.Audience = idt.Audience
	hdr := jwtHeader(t, raw)
	c.KID, c.Alg = hdr["kid"], hdr["alg"]
	// RFC 9068 §2.1: typ "at+jwt"; §2.2: these claims are REQUIRED.
	if hdr["typ"] != "at+jwt" || c.Alg != alg || c.KID == "" {
		t.Fatalf("JOSE header %v, want typ at+jwt, alg %s and a kid", hdr, alg)
	}
	if c.Issuer != issuer || c.Subject == "" || len(c.Audience) == 0 || c.ClientID == "" || c.JTI == "" || c.IssuedAt == 0 || c.Expiry <= c.IssuedAt {
		t.Fatalf("RFC 9068 claims incomplete: %+v", c)
	}
	return c
}

// jwtHeader decodes the (already verified or not) JOSE header of raw.
func jwtHeader(t *testing.T, raw string) map[string]string {
	t.Helper()
	part, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatalf("JOSE header encoding: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("JOSE header JSON: %v", err)
	}
	out := map[string]string{}
	for k, v := range h {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
