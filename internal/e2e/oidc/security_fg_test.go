package oidc

// SECURITY.md groups F (PKCE, RFC 7636 / RFC 9700 §2.1.1, §4.8) and G
// (authorization codes). One subtest per row, named with its ID. G2 (20
// parallel redemptions) is in concurrency_test.go.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

func TestSecurityF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	pub := e.createClient(t, testWS, clientSpec{ID: "native", Type: "public", RedirectURIs: []string{"http://127.0.0.1/cb"}})
	pub.RedirectURI = "http://127.0.0.1:40123/cb"
	pkceOn := true
	strict := e.createClient(t, testWS, clientSpec{ID: "pkce-required", RedirectURIs: []string{rpRedirect}, RequirePKCE: &pkceOn})
	for _, row := range []struct {
		id string
		fn func(t *testing.T)
	}{
		{"F1_public_client_must_use_PKCE", func(t *testing.T) {
			for _, c := range []clientCreds{pub, strict} {
				e.requireAuthzError(t, authParams(c), "invalid_request")
			}
		}},
		{"F2_S256_only", func(t *testing.T) {
			v := newVerifier()
			for _, method := range []string{"plain", "S512", "s256", ""} {
				params := authParams(e.client, "code_challenge", s256(v), "code_challenge_method", method)
				if method == "" { // RFC 7636 §4.3: absent means plain
					params = authParams(e.client, "code_challenge", v)
				}
				e.requireAuthzError(t, params, "invalid_request")
			}
		}},
		{"F3_challenge_syntax", func(t *testing.T) {
			good := s256(newVerifier())
			for _, ch := range []string{good[:42], good + "A", strings.Repeat("+", 43), good[:42] + "=", good[:40] + "%20A"} {
				e.requireAuthzError(t, authParams(e.client, "code_challenge", ch, "code_challenge_method", "S256"), "invalid_request")
			}
		}},
		{"F4_verifier_missing", func(t *testing.T) {
			code, _ := e.pkceCode(t, e.client)
			requireOAuthError(t, e.exchange(t, e.client, code, nil), http.StatusBadRequest, "invalid_grant")
		}},
		{"F5_wrong_verifier", func(t *testing.T) {
			code, _ := e.pkceCode(t, e.client)
			r := e.exchange(t, e.client, code, url.Values{"code_verifier": {newVerifier()}})
			requireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
		}},
		{"F6_downgrade_refused", func(t *testing.T) {
			_, res := e.codeFlow(t, authParams(e.client)) // no challenge
			r := e.exchange(t, e.client, res.Params.Get("code"), url.Values{"code_verifier": {newVerifier()}})
			requireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
		}},
		{"F7_verifier_syntax", func(t *testing.T) {
			for _, v := range []string{strings.Repeat("a", 42), strings.Repeat("a", 129), strings.Repeat("a", 42) + " b", strings.Repeat("a", 42) + "+"} {
				params := authParams(e.client, "code_challenge", s256(v), "code_challenge_method", "S256")
				_, res := e.codeFlow(t, params)
				r := e.exchange(t, e.client, res.Params.Get("code"), url.Values{"code_verifier": {v}})
				if r.status != http.StatusBadRequest || (r.str("error") != "invalid_grant" && r.str("error") != "invalid_request") {
					t.Errorf("verifier %q: %d %s, want 400 invalid_grant (or invalid_request)", v, r.status, r.raw)
				}
			}
		}},
		{"F8_discovery_S256_only", func(t *testing.T) {
			m, _ := e.discovery(t).json["code_challenge_methods_supported"].([]any)
			if len(m) != 1 || m[0] != "S256" {
				t.Errorf("code_challenge_methods_supported = %v, want [S256]", m)
			}
		}},
		{"F9_constant_challenge", func(t *testing.T) {
			// Optional row: a server may flag or reject a reused
			// challenge. Either answer is fine; anything else is not.
			v := newVerifier()
			for range 3 {
				params := authParams(e.client, "code_challenge", s256(v), "code_challenge_method", "S256")
				b := e.browser()
				res := e.drive(t, b, e.authorize(t, b, params), e.client.RedirectURI, flowOpts{user: &e.user})
				if errCode := res.Params.Get("error"); errCode != "" && errCode != "invalid_request" {
					t.Errorf("reused challenge: error %q", errCode)
				}
			}
		}},
		{"F_public_client_happy_path", func(t *testing.T) {
			code, v := e.pkceCode(t, pub)
			requireTokens(t, e.exchange(t, pub, code, url.Values{"code_verifier": {v}}))
		}},
	} {
		t.Run(row.id, row.fn)
	}
}

func TestSecurityG(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for _, row := range []struct {
		id string
		fn func(t *testing.T)
	}{
		{"G1_reuse_revokes_derived_tokens", func(t *testing.T) { codeReuse(t, e, 0) }},
		{"G3_bound_to_client", func(t *testing.T) {
			code := e.code(t, e.client, "scope", "openid offline_access", "prompt", "consent")
			c2 := e.client2
			c2.RedirectURI = e.client.RedirectURI
			requireOAuthError(t, e.exchange(t, c2, code, nil), http.StatusBadRequest, "invalid_grant")
		}},
		{"G3_other_client_after_redemption_is_reuse", func(t *testing.T) {
			code := e.code(t, e.client, "scope", "openid offline_access", "prompt", "consent")
			tk := requireTokens(t, e.exchange(t, e.client, code, nil))
			c2 := e.client2
			c2.RedirectURI = e.client.RedirectURI
			requireOAuthError(t, e.exchange(t, c2, code, nil), http.StatusBadRequest, "invalid_grant")
			if e.introspect(t, e.client, tk.AccessToken) {
				t.Error("G3: tokens of a code another client tried to redeem are still active")
			}
		}},
		{"G4_redirect_uri_must_match", func(t *testing.T) {
			for name, ru := range map[string][]string{"different": {rpRedirect2}, "suffix": {rpRedirect + "/x"}, "missing": nil} {
				code := e.code(t, e.client)
				form := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
				if ru != nil {
					form["redirect_uri"] = ru
				}
				r := e.postForm(t, "/oauth2/token", e.client, form)
				if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
					t.Errorf("%s redirect_uri: %d %s, want 400 invalid_grant", name, r.status, r.raw)
				}
			}
		}},
		{"G5_expired_after_60s", func(t *testing.T) {
			code := e.code(t, e.client)
			e.clock.Advance(61 * time.Second)
			requireOAuthError(t, e.exchange(t, e.client, code, nil), http.StatusBadRequest, "invalid_grant")
		}},
		{"G6_cross_tenant", func(t *testing.T) {
			code := e.code(t, e.client)
			other := "other-" + strings.ToLower(e2etest.RandomToken(4))
			other = strings.NewReplacer("_", "x").Replace(other)
			e.adminDo(t, http.MethodPost, "/workspaces", map[string]any{"id": other, "name": "Other"}, http.StatusCreated, nil)
			b := e.createClient(t, other, clientSpec{ID: "client", RedirectURIs: []string{rpRedirect}, Scopes: []string{}})
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpRedirect}}
			r := e.postFormAt(t, e.base+"/w/"+other+"/oauth2/token", b, form)
			requireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
			requireTokens(t, e.exchange(t, e.client, code, nil)) // still good in its own tenant
		}},
		{"G7_tampered_or_truncated", func(t *testing.T) {
			code := e.code(t, e.client)
			for _, bad := range []string{flipChar(code), code[:len(code)-1], code + "A", code[:min(len(code), 80)/2], " " + code} {
				requireOAuthError(t, e.exchange(t, e.client, bad, nil), http.StatusBadRequest, "invalid_grant")
			}
			requireTokens(t, e.exchange(t, e.client, code, nil))
		}},
		{"G8_entropy", func(t *testing.T) {
			seen := map[string]bool{}
			for range 3 {
				code := e.code(t, e.client)
				if len(code) < 22 || seen[code] {
					t.Errorf("code %d chars (want >= 22: 128 bits base64url), repeated %v", len(code), seen[code])
				}
				seen[code] = true
			}
			// "never logged" is checked against the server log at cleanup.
		}},
		{"G9_no_store_on_every_token_response", func(t *testing.T) {
			requireNoStore(t, e.exchange(t, e.client, e.code(t, e.client), nil).header)
			requireNoStore(t, e.exchange(t, e.client, "bogus", nil).header)
		}},
		{"G_unsupported_grant_params", func(t *testing.T) {
			r := e.postForm(t, "/oauth2/token", e.client, url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {rpRedirect}})
			if r.status != http.StatusBadRequest || (r.str("error") != "invalid_request" && r.str("error") != "invalid_grant") {
				t.Errorf("missing code: %d %s, want 400 invalid_request", r.status, r.raw)
			}
		}},
	} {
		t.Run(row.id, row.fn)
	}
}

// code runs an authorization for c as the env's user and returns the code.
func (e *env) code(t *testing.T, c clientCreds, extra ...string) string {
	t.Helper()
	_, res := e.codeFlow(t, authParams(c, extra...))
	return res.Params.Get("code")
}

// pkceCode runs an authorization with an S256 challenge and returns the
// code and verifier.
func (e *env) pkceCode(t *testing.T, c clientCreds) (string, string) {
	t.Helper()
	v := newVerifier()
	return e.code(t, c, "code_challenge", s256(v), "code_challenge_method", "S256"), v
}

// requireAuthzError requires an error redirect for params (no UI shown).
func (e *env) requireAuthzError(t *testing.T, params url.Values, codes ...string) {
	t.Helper()
	b := e.browser()
	res := e.drive(t, b, e.authorize(t, b, params), params.Get("redirect_uri"), flowOpts{noUI: true})
	e.requireRedirectError(t, res, params.Get("state"), codes...)
}

// flipChar changes one character in the middle of s.
func flipChar(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
