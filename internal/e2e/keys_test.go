package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestSigningAlgorithms: a workspace created with each selectable
// algorithm issues tokens that go-oidc verifies with
// exactly that algorithm (go-oidc v3.21 supports EdDSA, so no fallback is
// needed), and its JWKS advertises it.
func TestSigningAlgorithms(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		for _, alg := range []string{"RS256", "ES256", "PS256", "EdDSA"} {
			t.Run(alg, func(t *testing.T) {
				ws := "alg-" + strings.ToLower(alg)
				lk.createWorkspace(t, ws, alg)
				lk.createService(t, ws, "api", "https://api.example", "api:read")
				c := lk.secretClient(t, ws, "client_secret_basic", "api:read")
				raw := lk.secretToken(t, ws, c)
				claims := verifyWithOIDC(t, lk.issuer(ws), lk.issuer(ws)+"/oauth2/jwks", raw, alg)
				jwks := lk.jwks(t, ws)
				if k := jwks.find(claims.KID); k == nil || k["alg"] != alg {
					t.Errorf("JWKS key %s: %v, want alg %s", claims.KID, k, alg)
				}
			})
		}
	})
}

// jwkSet is a JWKS as raw members, so that private members can be seen.
type jwkSet struct {
	Keys []map[string]any `json:"keys"`
}

func (s jwkSet) kids() []string {
	out := make([]string, 0, len(s.Keys))
	for _, k := range s.Keys {
		kid, _ := k["kid"].(string)
		out = append(out, kid)
	}
	return out
}

func (s jwkSet) find(kid string) map[string]any {
	for _, k := range s.Keys {
		if k["kid"] == kid {
			return k
		}
	}
	return nil
}

// privateMembers are the JWK members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// jwks fetches the workspace JWKS and checks SECURITY.md O6 (no private
// members) and P5 (unique kids).
func (lk *instance) jwks(t *testing.T, ws string) jwkSet {
	t.Helper()
	r := lk.client.get(t, lk.issuer(ws)+"/oauth2/jwks")
	if r.status != http.StatusOK {
		t.Fatalf("JWKS: status %d", r.status)
	}
	var s jwkSet
	if err := json.Unmarshal(r.raw, &s); err != nil {
		t.Fatalf("JWKS JSON: %v", err)
	}
	for _, k := range s.Keys {
		for _, m := range privateMembers {
			if _, ok := k[m]; ok {
				t.Fatalf("O6: JWKS key %v has private member %q", k["kid"], m)
			}
		}
	}
	kids := s.kids()
	slices.Sort(kids)
	if len(slices.Compact(kids)) != len(s.Keys) || slices.Contains(kids, "") {
		t.Fatalf("P5: JWKS kids not unique and non-empty: %v", s.kids())
	}
	return s
}

// keyInfo is the admin API's signing key metadata.
type keyInfo struct {
	KID   string `json:"kid"`
	Alg   string `json:"alg"`
	State string `json:"state"`
}

func (lk *instance) keys(t *testing.T, ws string) []keyInfo {
	t.Helper()
	var out struct {
		Items []keyInfo `json:"items"`
	}
	lk.adminOK(t, http.MethodGet, "/workspaces/"+ws+"/keys", nil, http.StatusOK, &out)
	return out.Items
}

func keyInState(keys []keyInfo, state string) string {
	for _, k := range keys {
		if k.State == state {
			return k.KID
		}
	}
	return ""
}

// TestKeyRotation: SECURITY.md P2 (pre-publish, then switch; the retired
// key stays published), P4 (emergency removal makes its tokens inactive),
// O6 and P5 on every JWKS fetched.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "default"
		issuer := lk.issuer(ws)
		lk.createService(t, ws, "api", "https://api.example", "api:read")
		c := lk.secretClient(t, ws, "client_secret_basic", "api:read")
		cred := basic{c.ClientID, c.ClientSecret}

		before := lk.keys(t, ws)
		active, next := keyInState(before, "active"), keyInState(before, "next")
		if active == "" || next == "" {
			t.Fatalf("keys before rotation %+v: want an active and a next key", before)
		}
		published := lk.jwks(t, ws)
		if published.find(active) == nil || published.find(next) == nil {
			t.Fatalf("P2: JWKS %v must publish the active key %s and the next key %s", published.kids(), active, next)
		}
		old := lk.secretToken(t, ws, c)
		if kid := jwtHeader(t, old)["kid"]; kid != active {
			t.Fatalf("token kid %s, want the active key %s", kid, active)
		}

		lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/keys/rotate", map[string]any{}, http.StatusOK, nil)
		after := lk.keys(t, ws)
		if keyInState(after, "active") != next || !slices.ContainsFunc(after, func(k keyInfo) bool { return k.KID == active && k.State == "retired" }) {
			t.Fatalf("keys after rotation %+v: want %s active and %s retired", after, next, active)
		}
		fresh := lk.secretToken(t, ws, c)
		// P2: new tokens carry the new kid, which was published before it
		// signed (it was the "next" key in the JWKS fetched above).
		if kid := jwtHeader(t, fresh)["kid"]; kid != next {
			t.Fatalf("P2: token after rotation has kid %s, want the pre-published %s", kid, next)
		}
		// P2: a JWKS fetched after the rotation verifies both tokens.
		verifyWithOIDC(t, issuer, issuer+"/oauth2/jwks", old, "RS256")
		verifyWithOIDC(t, issuer, issuer+"/oauth2/jwks", fresh, "RS256")
		if s := lk.jwks(t, ws); s.find(active) == nil || s.find(keyInState(after, "next")) == nil {
			t.Fatalf("P2: JWKS after rotation %v must keep the retired key and publish the new next key", s.kids())
		}
		wantActive(t, lk.introspect(t, ws, old, cred), true)

		// P4: emergency removal of the key that signed old.
		lk.adminOK(t, http.MethodDelete, "/workspaces/"+ws+"/keys/"+active, nil, http.StatusNoContent, nil)
		if s := lk.jwks(t, ws); s.find(active) != nil {
			t.Fatalf("P4: removed key %s still in JWKS %v", active, s.kids())
		}
		wantActive(t, lk.introspect(t, ws, old, cred), false)
		wantActive(t, lk.introspect(t, ws, fresh, cred), true)

		// P4 for the active key: the admin API refuses to remove it
		// directly (409: rotate first), so the emergency procedure is
		// rotate, then remove; the key's tokens die and signing goes on
		// with a published key.
		if r := lk.adminDo(t, http.MethodDelete, "/workspaces/"+ws+"/keys/"+next, nil); r.status != http.StatusConflict {
			t.Fatalf("removing the active key: status %d, want 409 (rotate first): %s", r.status, r.raw)
		}
		lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/keys/rotate", map[string]any{}, http.StatusOK, nil)
		lk.adminOK(t, http.MethodDelete, "/workspaces/"+ws+"/keys/"+next, nil, http.StatusNoContent, nil)
		wantActive(t, lk.introspect(t, ws, fresh, cred), false)
		again := lk.secretToken(t, ws, c)
		kid := jwtHeader(t, again)["kid"]
		if kid == next || kid == active || lk.jwks(t, ws).find(kid) == nil {
			t.Fatalf("P4: token after removing the compromised key has kid %s (removed: %s, %s)", kid, active, next)
		}
		verifyWithOIDC(t, issuer, issuer+"/oauth2/jwks", again, "RS256")
	})
}
