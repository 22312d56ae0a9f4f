package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/grants/grantstest"
	"github.com/latchkey/latchkey/internal/storage"
)

// codeTokens runs a flow and exchanges the code.
func (f *flowFixture) codeTokens(t *testing.T, scope string) tokenResp {
	t.Helper()
	verifier, challenge := pkce()
	code := f.authorize(t, scope, challenge, "s")
	return f.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {flowRedirect},
		"code_verifier": {verifier}}, http.StatusOK)
}

// TestUserInfoMethods: GET and POST with the header, POST with the body;
// never both at once, never without the openid scope.
func TestUserInfoMethods(t *testing.T) {
	f := newFlowFixture(t)
	tr := f.codeTokens(t, "openid email")
	post := func(header string, form url.Values) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, f.issuer+"/oauth2/userinfo", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		defer resp.Body.Close()
		var claims map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&claims)
		if resp.StatusCode == http.StatusOK && (claims["email"] != "alice@example.com" || claims["given_name"] != nil) {
			t.Errorf("claims beyond the email scope: %v", claims)
		}
		return resp.StatusCode
	}
	if s := post("Bearer "+tr.AccessToken, url.Values{}); s != http.StatusOK {
		t.Fatalf("POST with header: %d", s)
	}
	if s := post("", url.Values{"access_token": {tr.AccessToken}}); s != http.StatusOK {
		t.Fatalf("POST with body: %d", s)
	}
	if s := post("Bearer "+tr.AccessToken, url.Values{"access_token": {tr.AccessToken}}); s != http.StatusBadRequest {
		t.Fatalf("both ways: %d", s)
	}
	if s := post("Bearer "+tr.AccessToken+"x", url.Values{}); s != http.StatusUnauthorized {
		t.Fatalf("tampered token: %d", s)
	}
	noOpenID := f.codeTokens(t, "email")
	if s, _ := f.userinfo(t, noOpenID.AccessToken); s != http.StatusForbidden {
		t.Fatalf("token without openid: %d", s)
	}
}

// TestUserInfoBearerChallenges: RFC 6750 §3 and §3.1. No token: 401 with
// the bare challenge (realm, no error code, no body); a bad token: 401
// error="invalid_token"; a malformed request: 400 invalid_request; a
// token without the openid scope: 403 insufficient_scope.
func TestUserInfoBearerChallenges(t *testing.T) {
	f := newFlowFixture(t)
	good := f.codeTokens(t, "openid email")
	noOpenID := f.codeTokens(t, "email")
	realm := `Bearer realm="` + f.issuer + `"`
	cases := []struct {
		name, authz, form string
		status            int
		challenge, code   string
	}{
		{"no token", "", "", http.StatusUnauthorized, realm, ""},
		{"other scheme", "Basic YTpi", "", http.StatusUnauthorized, realm + `, error="invalid_token", error_description="the access token is invalid"`, "invalid_token"},
		{"tampered token", "Bearer " + good.AccessToken + "x", "", http.StatusUnauthorized, realm + `, error="invalid_token", error_description="the access token is invalid"`, "invalid_token"},
		{"header and body", "Bearer " + good.AccessToken, "access_token=" + good.AccessToken, http.StatusBadRequest, realm + `, error="invalid_request", error_description="more than one way of sending the access token"`, "invalid_request"},
		{"no openid scope", "Bearer " + noOpenID.AccessToken, "", http.StatusForbidden, realm + `, error="insufficient_scope", error_description="the access token lacks the openid scope"`, "insufficient_scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, f.issuer+"/oauth2/userinfo", strings.NewReader(tc.form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.authz != "" {
				req.Header.Set("Authorization", tc.authz)
			}
			resp, err := http.DefaultClient.Do(req)
			must(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || resp.Header.Get("WWW-Authenticate") != tc.challenge {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), tc.status, tc.challenge)
			}
			if tc.code == "" {
				if len(body) != 0 {
					t.Fatalf("no-token answer has a body: %s", body)
				}
				return
			}
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil || e.Error != tc.code {
				t.Fatalf("body %s, want error %s", body, tc.code)
			}
		})
	}
}

// TestResponseModes: fragment and form_post carry code, state and iss.
func TestResponseModes(t *testing.T) {
	f := newFlowFixture(t)
	_, challenge := pkce()
	f.authorize(t, "openid", challenge, "warm-up") // sign in and consent once
	q := authQuery(func(q url.Values) { q.Set("response_mode", "fragment") })
	resp, body := f.do(t, http.MethodGet, f.issuer+"/oauth2/authorize?"+q.Encode(), nil)
	expectStatus(t, resp, body, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	frag, _ := url.ParseQuery(loc[strings.Index(loc, "#")+1:])
	if !strings.HasPrefix(loc, flowRedirect+"#") || frag.Get("code") == "" || frag.Get("iss") != f.issuer || frag.Get("state") != "xyz" {
		t.Fatalf("fragment response %s", loc)
	}
	q = authQuery(func(q url.Values) { q.Set("response_mode", "form_post") })
	resp, body = f.do(t, http.MethodGet, f.issuer+"/oauth2/authorize?"+q.Encode(), nil)
	expectStatus(t, resp, body, http.StatusOK)
	for _, want := range []string{`action="` + flowRedirect + `"`, `name="code"`, `name="iss" value="` + f.issuer + `"`, `name="state" value="xyz"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("form_post page lacks %s:\n%s", want, body)
		}
	}
}

// TestPromptLoginAndMaxAge is E14: prompt=login and an exceeded max_age
// send a signed-in browser back to the sign-in page.
func TestPromptLoginAndMaxAge(t *testing.T) {
	clock := &grantstest.Clock{}
	f := newFlowFixtureWith(t, testConfig(t, seededDataDir(t), nil), WithClock(clock.Now))
	_, challenge := pkce()
	f.authorize(t, "openid", challenge, "warm-up")
	for name, mod := range map[string]func(url.Values){
		"prompt=login": func(q url.Values) { q.Set("prompt", "login") },
		"max_age=0":    func(q url.Values) { q.Set("max_age", "0") },
		"max_age=1":    func(q url.Values) { q.Set("max_age", "1") },
	} {
		clock.Advance(1100 * time.Millisecond) // so max_age=0 and 1 are surely exceeded
		resp, body := f.do(t, http.MethodGet, f.issuer+"/oauth2/authorize?"+authQuery(mod).Encode(), nil)
		expectStatus(t, resp, body, http.StatusSeeOther)
		loc := resp.Header.Get("Location")
		if !strings.Contains(loc, "/login?request_id=") {
			t.Fatalf("%s: %s", name, loc)
		}
		// The sign-in made for the request completes it, however long the
		// user took over it (OIDC Core §3.1.2.1: max_age=0 is prompt=login).
		resp, body = f.do(t, http.MethodGet, loc, nil)
		expectStatus(t, resp, body, http.StatusOK)
		u, _ := url.Parse(loc)
		clock.Advance(2 * time.Second)
		resp, body = f.do(t, http.MethodPost, f.issuer+"/login", url.Values{"username": {"alice"}, "password": {"correct-horse"},
			"request_id": {u.Query().Get("request_id")}, "csrf_token": {csrfOf(t, body)}, "action": {"login"}})
		expectStatus(t, resp, body, http.StatusSeeOther)
		clock.Advance(2 * time.Second)
		for loc = resp.Header.Get("Location"); !strings.HasPrefix(loc, flowRedirect); loc = resp.Header.Get("Location") {
			if strings.Contains(loc, "/login?") {
				t.Fatalf("%s: sent back to sign in after signing in for the request: %s", name, loc)
			}
			resp, body = f.do(t, http.MethodGet, loc, nil)
			expectStatus(t, resp, body, http.StatusSeeOther)
		}
		if u, _ := url.Parse(loc); u.Query().Get("code") == "" {
			t.Fatalf("%s: no code: %s", name, loc)
		}
	}
	resp, body := f.do(t, http.MethodGet, f.issuer+"/oauth2/authorize?"+authQuery(func(q url.Values) { q.Set("max_age", "3600") }).Encode(), nil)
	expectStatus(t, resp, body, http.StatusSeeOther)
	if !strings.HasPrefix(resp.Header.Get("Location"), flowRedirect) {
		t.Fatalf("max_age=3600 asked again: %s", resp.Header.Get("Location"))
	}
}

// TestLogout: exact post_logout_redirect_uri with id_token_hint and state;
// an unregistered one is an error page (K11); the session is gone after.
func TestLogout(t *testing.T) {
	f := newFlowFixture(t)
	_, err := f.r.srv.store.UpdateClient(t.Context(), "default", "webapp", func(c storage.Client) (storage.Client, error) {
		c.PostLogoutRedirectURIs = []string{"https://app.example.com/bye"}
		return c, nil
	})
	must(t, err)
	tr := f.codeTokens(t, "openid")
	bad := url.Values{"id_token_hint": {tr.IDToken}, "post_logout_redirect_uri": {"https://evil.example/bye"}}
	resp, body := f.do(t, http.MethodGet, f.issuer+"/oauth2/logout?"+bad.Encode(), nil)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("unregistered post_logout_redirect_uri: %d %s", resp.StatusCode, body)
	}
	good := url.Values{"id_token_hint": {tr.IDToken}, "post_logout_redirect_uri": {"https://app.example.com/bye"}, "state": {"st"}}
	resp, body = f.do(t, http.MethodGet, f.issuer+"/oauth2/logout?"+good.Encode(), nil)
	expectStatus(t, resp, body, http.StatusSeeOther)
	if resp.Header.Get("Location") != "https://app.example.com/bye?state=st" {
		t.Fatalf("logout redirect %s", resp.Header.Get("Location"))
	}
	q := authQuery(func(q url.Values) { q.Set("prompt", "none") })
	resp, body = f.do(t, http.MethodGet, f.issuer+"/oauth2/authorize?"+q.Encode(), nil)
	expectStatus(t, resp, body, http.StatusSeeOther)
	if !strings.Contains(resp.Header.Get("Location"), "error=login_required") {
		t.Fatalf("session survived logout: %s", resp.Header.Get("Location"))
	}
}

// TestEssentialACR: an acr requested as an Essential Claim with values
// the sign-in does not meet ends the request as a failed authentication
// (OIDC Core §5.5.1.1: access_denied to the client, with state and iss),
// never with a token at a lower level; a met essential value, an
// essential acr without values and a voluntary one complete the flow.
func TestEssentialACR(t *testing.T) {
	f := newFlowFixture(t)
	_, challenge := pkce()
	f.authorize(t, "openid", challenge, "warm-up") // signed in, consent remembered
	for _, tc := range []struct {
		name, claims string
		denied       bool
	}{
		{"essential, unmet", `{"id_token":{"acr":{"essential":true,"values":["urn:example:loa:3"]}}}`, true},
		{"essential value, unmet, in userinfo", `{"userinfo":{"acr":{"essential":true,"value":"urn:example:loa:2"}}}`, true},
		{"essential, met", `{"id_token":{"acr":{"essential":true,"values":["urn:example:loa:3","0"]}}}`, false},
		{"essential without values", `{"id_token":{"acr":{"essential":true}}}`, false},
		{"voluntary", `{"id_token":{"acr":{"values":["urn:example:loa:3"]}}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := authQuery(func(q url.Values) { q.Set("claims", tc.claims) })
			resp, body := f.do(t, http.MethodGet, f.issuer+"/oauth2/authorize?"+q.Encode(), nil)
			expectStatus(t, resp, body, http.StatusSeeOther)
			loc := resp.Header.Get("Location")
			u, err := url.Parse(loc)
			must(t, err)
			got := u.Query()
			if !strings.HasPrefix(loc, flowRedirect+"?") || got.Get("state") != "xyz" || got.Get("iss") != f.issuer {
				t.Fatalf("not an authorization response: %s", loc)
			}
			if tc.denied {
				if got.Get("error") != "access_denied" || got.Get("code") != "" || !strings.Contains(got.Get("error_description"), "essential acr") {
					t.Fatalf("want access_denied: %s", loc)
				}
				return
			}
			if got.Get("code") == "" {
				t.Fatalf("want a code: %s", loc)
			}
		})
	}
}
