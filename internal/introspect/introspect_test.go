package introspect_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/grants/grantstest"
	"github.com/latchkey/latchkey/internal/introspect"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

const ordersAPI = "https://orders.example/api"

type fixture struct {
	env     *grantstest.Env
	handler *introspect.Handler
	secrets map[string]string
}

// newFixture: workspace "acme" with the orders service and clients
//   - app: gets tokens;
//   - other-app: another client of the workspace;
//   - https://orders.example/api: a resource server whose client_id is the audience;
//   - gateway: metadata latchkey.introspect=all;
//
// and workspace "other" with client "app" (same ID, other tenant).
func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureAlg(t, oauth2.AlgES256)
}

func newFixtureAlg(t testing.TB, alg string) *fixture {
	t.Helper()
	env := grantstest.New(t)
	f := &fixture{env: env, secrets: map[string]string{}}
	env.Workspace(t, "acme", alg, storage.WorkspaceSettings{AccessTokenTTL: 10 * time.Minute})
	env.Workspace(t, "other", alg, storage.WorkspaceSettings{})
	env.Service(t, "acme", "orders", ordersAPI, "orders:read")
	env.Service(t, "other", "orders", ordersAPI, "orders:read")
	for _, c := range []storage.Client{
		{ID: "app", Scopes: []string{"orders:read"}},
		{ID: "other-app", Scopes: []string{"orders:read"}},
		{ID: ordersAPI},
		{ID: "gateway", Metadata: map[string]string{introspect.MetadataIntrospect: introspect.MetadataIntrospectAll}},
	} {
		f.addClient(t, "acme", c)
	}
	f.addClient(t, "other", storage.Client{ID: "app", Scopes: []string{"orders:read"}})
	(&grants.Handler{Store: env.Store, Auth: env.Auth, Keys: env.Keys, BaseURL: env.BaseURL, Now: env.Clock.Now, Logger: env.Logger}).Mount(env.Mux)
	f.handler = &introspect.Handler{Store: env.Store, Auth: env.Auth, Keys: env.Keys, BaseURL: env.BaseURL, Now: env.Clock.Now, Logger: env.Logger}
	f.handler.Mount(env.Mux)
	return f
}

func (f *fixture) addClient(t testing.TB, ws string, c storage.Client) {
	t.Helper()
	_, secret := f.env.Client(t, ws, c)
	f.secrets[ws+"/"+c.ID] = secret
}

// post sends form to endpoint ("token", "introspect", "revoke") of ws,
// authenticated with client_secret_basic as client (none when "").
func (f *fixture) post(t testing.TB, ws, endpoint, client string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.env.Issuer(ws)+"/oauth2/"+endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if client != "" {
		req.SetBasicAuth(url.QueryEscape(client), url.QueryEscape(f.secrets[ws+"/"+client]))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func (f *fixture) token(t testing.TB, ws, client string) string {
	t.Helper()
	resp := f.post(t, ws, "token", client, url.Values{"grant_type": {oauth2.GrantClientCredentials}})
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	var tb struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tb); err != nil {
		t.Fatal(err)
	}
	return tb.AccessToken
}

// introspect returns the raw body of a 200 introspection response.
func (f *fixture) introspect(t testing.TB, caller, token string, extra ...string) string {
	t.Helper()
	form := url.Values{"token": {token}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	resp := f.post(t, "acme", "introspect", caller, form)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("introspect: %d %s", resp.StatusCode, body)
	}
	assertNoStore(t, resp)
	return strings.TrimSpace(string(body))
}

const inactive = `{"active":false}`

func assertNoStore(t testing.TB, resp *http.Response) {
	t.Helper()
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("cache headers %q / %q", resp.Header.Get("Cache-Control"), resp.Header.Get("Pragma"))
	}
}

func assertError(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, status, body)
	}
	assertNoStore(t, resp)
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error != code {
		t.Fatalf("body %s, want error %q", body, code)
	}
}

func TestIntrospectActive(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "acme", "app")
	var got map[string]any
	if err := json.Unmarshal([]byte(f.introspect(t, "app", tok)), &got); err != nil {
		t.Fatal(err)
	}
	iat, _ := got["iat"].(float64)
	want := map[string]any{
		"active": true, "scope": "orders:read", "client_id": "app", "sub": "app",
		"aud": []any{ordersAPI}, "iss": f.env.Issuer("acme"), "token_type": "Bearer",
		"iat": iat, "exp": iat + 600, "jti": got["jti"],
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) || got["jti"] == "" || iat == 0 {
		t.Fatalf("introspection\n got %s\nwant %s", gb, wb)
	}
}

// TestIntrospectCallerPolicy is I3: only the token's client, a client
// named by its audience, or a client flagged latchkey.introspect=all may
// see a token's claims; everyone else gets exactly {"active":false}.
func TestIntrospectCallerPolicy(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "acme", "app")
	for caller, active := range map[string]bool{"app": true, ordersAPI: true, "gateway": true, "other-app": false} {
		body := f.introspect(t, caller, tok)
		if got := body != inactive; got != active {
			t.Errorf("caller %s: body %s, want active=%v", caller, body, active)
		}
	}
}

// TestIntrospectPublicCaller: a public client proves nothing but its
// client_id, so the introspection endpoint refuses it, even flagged
// latchkey.introspect=all (RFC 7662 §2.1, SECURITY.md I1); it may not
// revoke another client's token either (RFC 7009 §2.1, I6).
func TestIntrospectPublicCaller(t *testing.T) {
	f := newFixture(t)
	f.env.Client(t, "acme", storage.Client{ID: "public-gw", Type: oauth2.ClientPublic, TokenEndpointAuthMethod: oauth2.AuthNone,
		Metadata: map[string]string{introspect.MetadataIntrospect: introspect.MetadataIntrospectAll}})
	tok := f.token(t, "acme", "app")
	// RFC 7662 §2.1: a client_id alone is no authorization, whatever the
	// token (I1), even with the metadata that opens every token to a
	// confidential gateway.
	resp := f.post(t, "acme", "introspect", "", url.Values{"token": {tok}, "client_id": {"public-gw"}})
	assertError(t, resp, http.StatusUnauthorized, "invalid_client")
	revoke := f.post(t, "acme", "revoke", "", url.Values{"token": {tok}, "client_id": {"public-gw"}})
	assertError(t, revoke, http.StatusBadRequest, "unauthorized_client")
	if f.introspect(t, "app", tok) == inactive {
		t.Fatal("a public client revoked another client's token")
	}
}

// TestIntrospectInactive is I2 (and J3, O2, O3): every kind of dead token
// answers exactly {"active":false}.
func TestIntrospectInactive(t *testing.T) {
	tests := []struct {
		name  string
		token func(t *testing.T, f *fixture) string
	}{
		{"garbage", func(t *testing.T, f *fixture) string { return "not-a-token" }},
		{"truncated", func(t *testing.T, f *fixture) string { tok := f.token(t, "acme", "app"); return tok[:len(tok)-10] }},
		{"tampered signature", func(t *testing.T, f *fixture) string {
			tok := f.token(t, "acme", "app")
			last := tok[len(tok)-2]
			flip := byte('A')
			if last == 'A' {
				flip = 'B'
			}
			return tok[:len(tok)-2] + string(flip) + tok[len(tok)-1:]
		}},
		{"J3 token of another workspace", func(t *testing.T, f *fixture) string { return f.token(t, "other", "app") }},
		{"expired", func(t *testing.T, f *fixture) string {
			tok := f.token(t, "acme", "app")
			f.env.Clock.Advance(11 * time.Minute)
			return tok
		}},
		{"revoked", func(t *testing.T, f *fixture) string {
			tok := f.token(t, "acme", "app")
			if resp := f.post(t, "acme", "revoke", "app", url.Values{"token": {tok}}); resp.StatusCode != http.StatusOK {
				t.Fatalf("revoke: %d", resp.StatusCode)
			}
			return tok
		}},
		{"O3 client disabled", func(t *testing.T, f *fixture) string {
			tok := f.token(t, "acme", "app")
			setEnabled(t, f, "app", false)
			return tok
		}},
		{"O2 client deleted", func(t *testing.T, f *fixture) string {
			tok := f.token(t, "acme", "app")
			if err := f.env.Store.DeleteClient(context.Background(), "acme", "app"); err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"O2 client deleted and re-created", func(t *testing.T, f *fixture) string {
			tok := f.token(t, "acme", "app")
			if err := f.env.Store.DeleteClient(context.Background(), "acme", "app"); err != nil {
				t.Fatal(err)
			}
			f.env.Clock.Advance(2 * time.Second)
			f.addClient(t, "acme", storage.Client{ID: "app", Scopes: []string{"orders:read"}})
			return tok
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tok := tc.token(t, f)
			if body := f.introspect(t, "gateway", tok); body != inactive {
				t.Fatalf("body %s, want %s", body, inactive)
			}
		})
	}
}

func setEnabled(t *testing.T, f *fixture, id string, enabled bool) {
	t.Helper()
	if _, err := f.env.Store.UpdateClient(context.Background(), "acme", id, func(c storage.Client) (storage.Client, error) {
		c.Enabled = enabled
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestIntrospectHint is I4: token_type_hint never changes the answer.
func TestIntrospectHint(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "acme", "app")
	for _, hint := range []string{"access_token", "refresh_token", "foo"} {
		if body := f.introspect(t, "app", tok, "token_type_hint", hint); body == inactive {
			t.Errorf("hint %q: inactive", hint)
		}
	}
}

func TestEndpointErrors(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "acme", "app")
	for _, endpoint := range []string{"introspect", "revoke"} {
		t.Run(endpoint, func(t *testing.T) {
			tests := []struct {
				name   string
				send   func() *http.Response
				status int
				code   string
			}{
				{"I1 no credentials", func() *http.Response { return f.post(t, "acme", endpoint, "", url.Values{"token": {tok}}) }, 401, "invalid_client"},
				{"I1 wrong secret", func() *http.Response {
					req, _ := http.NewRequest(http.MethodPost, f.env.Issuer("acme")+"/oauth2/"+endpoint, strings.NewReader("token="+tok))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth("app", "wrong")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { _ = resp.Body.Close() })
					return resp
				}, 401, "invalid_client"},
				{"J3 client of another workspace", func() *http.Response {
					return f.post(t, "other", endpoint, "app", url.Values{"token": {tok}})
				}, 200, ""},
				{"missing token", func() *http.Response { return f.post(t, "acme", endpoint, "app", url.Values{}) }, 400, "invalid_request"},
				{"repeated token", func() *http.Response { return f.post(t, "acme", endpoint, "app", url.Values{"token": {tok, tok}}) }, 400, "invalid_request"},
				{"Q1 GET", func() *http.Response {
					resp, err := http.Get(f.env.Issuer("acme") + "/oauth2/" + endpoint)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { _ = resp.Body.Close() })
					return resp
				}, 405, "invalid_request"},
				{"unknown workspace", func() *http.Response { return f.post(t, "nowhere", endpoint, "app", url.Values{"token": {tok}}) }, 404, "invalid_request"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					resp := tc.send()
					if tc.code == "" {
						if resp.StatusCode != tc.status {
							t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
						}
						return
					}
					assertError(t, resp, tc.status, tc.code)
				})
			}
		})
	}
	// The J3 cases above must not have revoked A's token through B.
	if f.introspect(t, "app", tok) == inactive {
		t.Fatal("token of acme affected by a request to workspace other")
	}
}

func TestRevoke(t *testing.T) {
	tests := []struct {
		name       string
		caller     string
		token      func(tok string) string
		hint       string
		wantActive bool
	}{
		{"owner revokes", "app", same, "", false},
		{"I4 refresh_token hint on an access token", "app", same, "refresh_token", false},
		{"I9 unknown hint", "app", same, "foo", false},
		{"I6 another client is refused", "other-app", same, "", true},
		{"I6 the audience may not revoke", ordersAPI, same, "", true},
		{"I5 garbage", "app", func(string) string { return "garbage" }, "", true},
		{"I9 garbage with unknown hint", "app", func(string) string { return "garbage" }, "foo", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tok := f.token(t, "acme", "app")
			form := url.Values{"token": {tc.token(tok)}}
			if tc.hint != "" {
				form.Set("token_type_hint", tc.hint)
			}
			resp := f.post(t, "acme", "revoke", tc.caller, form)
			if tc.caller != "app" {
				// RFC 7009 §2.1: a valid token of another client is
				// refused, and the client told so (SECURITY.md I6).
				assertError(t, resp, http.StatusBadRequest, "unauthorized_client")
			} else {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("revoke status %d", resp.StatusCode)
				}
				assertNoStore(t, resp)
				// Revoking twice is fine too.
				if resp := f.post(t, "acme", "revoke", tc.caller, form); resp.StatusCode != http.StatusOK {
					t.Fatalf("second revoke status %d", resp.StatusCode)
				}
			}
			if active := f.introspect(t, "app", tok) != inactive; active != tc.wantActive {
				t.Fatalf("active = %v after revoke, want %v", active, tc.wantActive)
			}
		})
	}
}

func same(tok string) string { return tok }

// failingStore injects storage failures into the revocation calls.
type failingStore struct{ introspect.TokenStore }

var errInjected = errors.New("injected storage failure")

func (failingStore) RevokeToken(context.Context, storage.RevokedToken) error { return errInjected }
func (failingStore) IsTokenRevoked(context.Context, string, string) (bool, error) {
	return false, errInjected
}

// TestStorageFailure is I8: a storage failure is 503
// temporarily_unavailable, never a 200 that reads as success, and the
// token stays active.
func TestStorageFailure(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "acme", "app")
	h := *f.handler
	h.Store = failingStore{f.env.Store}
	mux := http.NewServeMux()
	h.Mount(mux)
	for _, endpoint := range []string{"revoke", "introspect"} {
		rec := serve(mux, "/w/acme/oauth2/"+endpoint, "app", f.secrets["acme/app"], url.Values{"token": {tok}})
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"temporarily_unavailable"`) {
			t.Fatalf("%s: %d %s", endpoint, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), errInjected.Error()) {
			t.Fatalf("%s: internal error text on the wire: %s", endpoint, rec.Body)
		}
	}
	if f.introspect(t, "app", tok) == inactive {
		t.Fatal("token inactive after a failed revocation")
	}
}

type denyLimiter struct{ keys []string }

func (d *denyLimiter) Allow(key string) (bool, time.Duration) {
	d.keys = append(d.keys, key)
	return false, 1500 * time.Millisecond
}

// TestRateLimit is N2: a caller over its budget gets 429 with Retry-After.
func TestRateLimit(t *testing.T) {
	f := newFixture(t)
	lim := &denyLimiter{}
	h := *f.handler
	h.Limiter = lim
	mux := http.NewServeMux()
	h.Mount(mux)
	rec := serve(mux, "/w/acme/oauth2/introspect", "app", f.secrets["acme/app"], url.Values{"token": {"x"}})
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("%d Retry-After %q: %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if !slices.Equal(lim.keys, []string{"introspect:acme/app"}) {
		t.Fatalf("limiter keys %q", lim.keys)
	}
}
