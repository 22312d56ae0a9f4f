package oidc

// A client's id_token_signed_response_alg (OIDC Dynamic Client
// Registration §2) is checked against the workspace's algorithm only at
// registration. When the workspace later signs with another algorithm,
// the token endpoint cannot honour the registration: it must refuse the ID
// token with 400 unauthorized_client (RFC 6749 §5.2) and a description
// saying what to fix, never a 500 and never a token signed otherwise.

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// publishLead exceeds the signing manager's default PublishLead (10m): a
// "next" key is promoted only once JWKS caches can have seen it
// (SECURITY.md P2).
const publishLead = 11 * time.Minute

func TestIDTokenAlgAfterWorkspaceAlgChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.createClient(t, testWS, clientSpec{ID: "rs256-pinned", RedirectURIs: []string{rpRedirect},
		Extra: map[string]any{"id_token_signed_response_alg": "RS256"}})
	before := e.offlineTokens(t, c)
	if alg := jwtHeader(t, before.IDToken)["alg"]; alg != "RS256" {
		t.Fatalf("ID token alg before the change = %v, want RS256", alg)
	}

	e.switchSigningAlg(t, "ES256")

	code := e.code(t, c, "scope", "openid offline_access", "prompt", "consent")
	requests := []struct {
		name string
		send func(t *testing.T) reply
	}{
		{"authorization_code", func(t *testing.T) reply { return e.exchange(t, c, code, nil) }},
		{"refresh_token", func(t *testing.T) reply { return e.refresh(t, c, before.RefreshToken, nil) }},
	}
	for _, rq := range requests {
		t.Run(rq.name+"_refused", func(t *testing.T) {
			requireAlgRefusal(t, rq.send(t), "RS256", "ES256")
		})
	}

	// The refusal spent nothing: once the registration follows the
	// workspace, the same code and refresh token work.
	e.adminDo(t, http.MethodPatch, "/workspaces/"+testWS+"/clients/"+c.ID,
		map[string]any{"id_token_signed_response_alg": "ES256"}, http.StatusOK, nil)
	for _, rq := range requests {
		t.Run(rq.name+"_after_client_update", func(t *testing.T) {
			tk := requireTokens(t, rq.send(t))
			if alg := jwtHeader(t, tk.IDToken)["alg"]; alg != "ES256" {
				t.Errorf("ID token alg = %v, want ES256", alg)
			}
		})
	}
}

// requireAlgRefusal requires 400 unauthorized_client naming the
// client's algorithm and the workspace's, and no token at all.
func requireAlgRefusal(t *testing.T, r reply, clientAlg, workspaceAlg string) {
	t.Helper()
	requireOAuthError(t, r, http.StatusBadRequest, "unauthorized_client")
	desc := r.str("error_description")
	for _, want := range []string{"id_token_signed_response_alg", clientAlg, workspaceAlg} {
		if !strings.Contains(desc, want) {
			t.Errorf("error_description %q does not mention %q", desc, want)
		}
	}
	for _, member := range []string{"access_token", "id_token", "refresh_token"} {
		if _, ok := r.json[member]; ok {
			t.Errorf("refusal carries %s: %s", member, r.raw)
		}
	}
}

// switchSigningAlg changes the workspace's signing algorithm through the
// admin API, then rotates (after the publish lead) until a key of alg is
// the active one, as an operator would.
func (e *env) switchSigningAlg(t *testing.T, alg string) {
	t.Helper()
	e.adminDo(t, http.MethodPatch, "/workspaces/"+testWS, map[string]any{"settings": map[string]any{"signing_alg": alg}},
		http.StatusOK, nil)
	for range 2 {
		if e.activeKeyAlg(t) == alg {
			return
		}
		e.clock.Advance(publishLead)
		e.adminDo(t, http.MethodPost, "/workspaces/"+testWS+"/keys/rotate", map[string]any{"alg": alg}, http.StatusOK, nil)
	}
	if got := e.activeKeyAlg(t); got != alg {
		t.Fatalf("active signing key alg = %q after two rotations, want %q", got, alg)
	}
}

// activeKeyAlg is the algorithm of the workspace's active signing key.
func (e *env) activeKeyAlg(t *testing.T) string {
	t.Helper()
	var keys struct {
		Items []struct{ Alg, State string }
	}
	e.adminDo(t, http.MethodGet, "/workspaces/"+testWS+"/keys", nil, http.StatusOK, &keys)
	for _, k := range keys.Items {
		if k.State == "active" {
			return k.Alg
		}
	}
	t.Fatalf("workspace %s has no active signing key: %+v", testWS, keys.Items)
	return ""
}
