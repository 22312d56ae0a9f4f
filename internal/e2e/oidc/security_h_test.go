package oidc

// SECURITY.md group H: refresh tokens (RFC 6749 §6, RFC 9700 §4.14). One
// subtest per row, named with its ID. H3 (50 parallel refreshes) is in
// concurrency_test.go; H5 also runs across a SIGKILL there.

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

func TestSecurityH(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	pub := e.createClient(t, testWS, clientSpec{ID: "native-h", Type: "public", RedirectURIs: []string{"http://127.0.0.1/cb"}})
	pub.RedirectURI = "http://127.0.0.1:40124/cb"
	for _, row := range []struct {
		id string
		fn func(t *testing.T)
	}{
		{"H1_rotation_and_reuse_revokes_family", func(t *testing.T) {
			first := e.offlineTokens(t, e.client)
			second := requireTokens(t, e.refresh(t, e.client, first.RefreshToken, nil))
			if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
				t.Fatalf("refresh did not rotate the refresh token")
			}
			requireOAuthError(t, e.refresh(t, e.client, first.RefreshToken, nil), http.StatusBadRequest, "invalid_grant")
			requireOAuthError(t, e.refresh(t, e.client, second.RefreshToken, nil), http.StatusBadRequest, "invalid_grant")
			for i, at := range []string{first.AccessToken, second.AccessToken} {
				if e.introspect(t, e.client, at) {
					t.Errorf("H1: access token %d of the revoked family still active", i+1)
				}
			}
		}},
		{"H2_public_client_rotates", func(t *testing.T) {
			v := newVerifier()
			code := e.code(t, pub, "scope", "openid offline_access", "prompt", "consent",
				"code_challenge", s256(v), "code_challenge_method", "S256")
			first := requireTokens(t, e.exchange(t, pub, code, url.Values{"code_verifier": {v}}))
			if first.RefreshToken == "" {
				t.Fatal("no refresh token for the public client")
			}
			second := requireTokens(t, e.refresh(t, pub, first.RefreshToken, nil))
			if second.RefreshToken == first.RefreshToken {
				t.Fatal("H2: public client's refresh token not rotated")
			}
			requireOAuthError(t, e.refresh(t, pub, first.RefreshToken, nil), http.StatusBadRequest, "invalid_grant")
			requireOAuthError(t, e.refresh(t, pub, second.RefreshToken, nil), http.StatusBadRequest, "invalid_grant")
		}},
		{"H4_same_second_replay", func(t *testing.T) {
			rt1 := e.offlineTokens(t, e.client).RefreshToken
			rt2 := requireTokens(t, e.refresh(t, e.client, rt1, nil)).RefreshToken
			rt3 := requireTokens(t, e.refresh(t, e.client, rt2, nil)).RefreshToken
			requireOAuthError(t, e.refresh(t, e.client, rt1, nil), http.StatusBadRequest, "invalid_grant")
			requireOAuthError(t, e.refresh(t, e.client, rt3, nil), http.StatusBadRequest, "invalid_grant")
		}},
		{"H6_refresh_revoke_race", func(t *testing.T) {
			first := e.offlineTokens(t, e.client)
			var ref, rev reply
			var wg sync.WaitGroup
			wg.Go(func() { ref = e.refresh(t, e.client, first.RefreshToken, nil) })
			wg.Go(func() {
				rev = e.postForm(t, "/oauth2/revoke", e.client, url.Values{"token": {first.RefreshToken}, "token_type_hint": {"refresh_token"}})
			})
			wg.Wait()
			if rev.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", rev.status, rev.raw)
			}
			requireOAuthError(t, e.refresh(t, e.client, first.RefreshToken, nil), http.StatusBadRequest, "invalid_grant")
			if ref.status == http.StatusOK {
				requireOAuthError(t, e.refresh(t, e.client, ref.str("refresh_token"), nil), http.StatusBadRequest, "invalid_grant")
				if e.introspect(t, e.client, ref.str("access_token")) {
					t.Error("H6: access token from the racing refresh is still active")
				}
			} else if ref.status != http.StatusBadRequest || ref.str("error") != "invalid_grant" {
				t.Errorf("racing refresh: %d %s, want 200 or 400 invalid_grant", ref.status, ref.raw)
			}
		}},
		{"H7_bound_to_client", func(t *testing.T) {
			rt := e.offlineTokens(t, e.client).RefreshToken
			requireOAuthError(t, e.refresh(t, e.client2, rt, nil), http.StatusBadRequest, "invalid_grant")
		}},
		{"H8_scope_narrowing_only", func(t *testing.T) {
			rt := e.offlineTokens(t, e.client, "openid offline_access profile").RefreshToken
			r := e.refresh(t, e.client, rt, url.Values{"scope": {"openid offline_access profile email"}})
			requireOAuthError(t, r, http.StatusBadRequest, "invalid_scope")
			narrow := requireTokens(t, e.refresh(t, e.client, rt, url.Values{"scope": {"openid offline_access"}}))
			if narrow.Scope != "" && containsStr(strings.Fields(narrow.Scope), "profile") {
				t.Errorf("narrowed refresh returned scope %q", narrow.Scope)
			}
		}},
		{"H12_tampered_refresh_token", func(t *testing.T) {
			rt := e.offlineTokens(t, e.client).RefreshToken
			for _, bad := range []string{flipChar(rt), rt[:len(rt)-1], rt + "A", "lkrt_" + e2etest.RandomToken(32)} {
				requireOAuthError(t, e.refresh(t, e.client, bad, nil), http.StatusBadRequest, "invalid_grant")
			}
			requireTokens(t, e.refresh(t, e.client, rt, nil))
		}},
		{"H_refresh_needs_offline_access_or_client_setting", func(t *testing.T) {
			tk := requireTokens(t, e.exchange(t, e.client, e.code(t, e.client, "scope", "openid"), nil))
			if tk.RefreshToken != "" {
				t.Logf("refresh token issued without offline_access: the client's refresh setting is on")
			}
		}},
	} {
		t.Run(row.id, row.fn)
	}
}

// H9: a refresh token dies with its user, password, consent, client or
// workspace. Each case gets its own server so the changes do not leak.
func TestSecurityH9_lifecycle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, e *env)
	}{
		{"user disabled", func(t *testing.T, e *env) {
			e.adminDo(t, http.MethodPatch, "/workspaces/"+testWS+"/users/"+e.user.ID, map[string]any{"active": false}, http.StatusOK, nil)
		}},
		{"password changed", func(t *testing.T, e *env) { e.setPassword(t, testWS, e.user.ID, "a brand new password 77") }},
		{"consent revoked", func(t *testing.T, e *env) {
			e.adminDo(t, http.MethodDelete, "/workspaces/"+testWS+"/users/"+e.user.ID+"/consents/"+e.client.ID, nil, http.StatusNoContent, nil)
		}},
		{"client deleted", func(t *testing.T, e *env) {
			e.adminDo(t, http.MethodDelete, "/workspaces/"+testWS+"/clients/"+e.client.ID, nil, http.StatusNoContent, nil)
		}},
		{"workspace disabled", func(t *testing.T, e *env) {
			e.adminDo(t, http.MethodPatch, "/workspaces/"+testWS, map[string]any{"enabled": false}, http.StatusOK, nil)
		}},
	} {
		t.Run("H9_"+tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			rt := e.offlineTokens(t, e.client).RefreshToken
			tc.change(t, e)
			time.Sleep(300 * time.Millisecond) // > the cache poll interval of the test config (100ms)
			r := e.refresh(t, e.client, rt, nil)
			if tc.name == "workspace disabled" {
				// docs/architecture.md: a disabled workspace answers 404 on
				// every endpoint, which refuses the refresh before any grant.
				if r.status != http.StatusNotFound {
					t.Errorf("refresh in a disabled workspace: %d %s, want 404", r.status, r.raw)
				}
				return
			}
			if r.status == http.StatusOK || (r.str("error") != "invalid_grant" && r.str("error") != "invalid_client") {
				t.Errorf("refresh after %s: %d %s, want 400 invalid_grant", tc.name, r.status, r.raw)
			}
		})
	}
}

// H5 and H10 need their own servers: a restart and a clock a year ahead.
func TestSecurityH5_restart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	rt1 := e.offlineTokens(t, e.client).RefreshToken
	rt2 := requireTokens(t, e.refresh(t, e.client, rt1, nil)).RefreshToken
	e.restart(t)
	requireOAuthError(t, e.refresh(t, e.client, rt1, nil), http.StatusBadRequest, "invalid_grant")
	requireOAuthError(t, e.refresh(t, e.client, rt2, nil), http.StatusBadRequest, "invalid_grant")
}

func TestSecurityH10_idle_and_absolute_expiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	rt := e.offlineTokens(t, e.client).RefreshToken
	e.clock.Advance(366 * 24 * time.Hour)
	requireOAuthError(t, e.refresh(t, e.client, rt, nil), http.StatusBadRequest, "invalid_grant")
}

// H11: without a configured grace period a retried refresh token is
// reuse (H1). With the client setting refresh_tokens.grace_period (admin
// API, seconds), a retry within the window returns the same successor (no
// fork) and after it the family is revoked.
func TestSecurityH11_grace_period(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	r := e.adminRaw(t, http.MethodPatch, "/workspaces/"+testWS+"/clients/"+e.client.ID, map[string]any{"refresh_tokens": map[string]any{"grace_period": 10}})
	if r.status != http.StatusOK {
		t.Fatalf("setting refresh_tokens.grace_period: %d %s", r.status, r.raw)
	}
	time.Sleep(300 * time.Millisecond)
	rt1 := e.offlineTokens(t, e.client).RefreshToken
	a := requireTokens(t, e.refresh(t, e.client, rt1, nil))
	b := e.refresh(t, e.client, rt1, nil)
	if b.status == http.StatusOK && b.str("refresh_token") != a.RefreshToken {
		t.Errorf("H11: retry within grace forked the family (%s... vs %s...)", b.str("refresh_token")[:8], a.RefreshToken[:8])
	}
	e.clock.Advance(11 * time.Second)
	requireOAuthError(t, e.refresh(t, e.client, rt1, nil), http.StatusBadRequest, "invalid_grant")
	requireOAuthError(t, e.refresh(t, e.client, a.RefreshToken, nil), http.StatusBadRequest, "invalid_grant")
}

// offlineTokens runs a flow with offline_access (and prompt=consent, OIDC
// Core §11) and requires a refresh token.
func (e *env) offlineTokens(t *testing.T, c clientCreds, scope ...string) tokens {
	t.Helper()
	sc := "openid offline_access"
	if len(scope) > 0 {
		sc = scope[0]
	}
	tk := requireTokens(t, e.exchange(t, c, e.code(t, c, "scope", sc, "prompt", "consent"), nil))
	if tk.RefreshToken == "" {
		t.Fatalf("no refresh token for scope %q", sc)
	}
	return tk
}
