package e2e

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestJWTBearerPreAuthorizationTemplate: a client's JWT bearer
// pre-authorization is the "profiles" policy template rendered from its
// settings, and through the token endpoint every setting shape admits and
// refuses exactly whom it did before it became one: nobody by default
// (docs/security.md R1), the listed profiles, the listed users, both,
// everyone under all_users, and nobody again once the lists are emptied.
// A refusal is 400 invalid_grant "user is not pre-authorized for this
// app"; the admin API shows each shape as the template with its
// parameters; the user policy still applies in addition.
func TestJWTBearerPreAuthorizationTemplate(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "default"
		wsPath := "/workspaces/" + ws
		lk.createService(t, ws, "api", "https://api.example", "api:read")
		lk.adminOK(t, http.MethodPost, wsPath+"/profiles", map[string]any{"id": "sales", "name": "Sales"}, http.StatusCreated, nil)
		for _, u := range []map[string]any{
			{"id": "u-ann", "username": "ann", "profiles": []string{"sales"}},
			{"id": "u-bob", "username": "bob"},
			{"id": "u-cat", "username": "cat"},
		} {
			lk.adminOK(t, http.MethodPost, wsPath+"/users", u, http.StatusCreated, nil)
		}
		c := lk.createClient(t, ws, map[string]any{"name": "Pre-authorized app",
			"grant_types": []string{jwtBearerGrant}, "scopes": []string{"api:read"}})
		s := newJWTBearerSigner(t)
		lk.adminOK(t, http.MethodPost, wsPath+"/clients/"+c.ClientID+"/certificates",
			map[string]any{"certificate": s.certPEM, "kid": "e2e"}, http.StatusCreated, nil)
		tokenURL := lk.wsURL(ws) + "/oauth2/token"
		grant := func(username string) reply {
			a := s.assertion(t, c.ClientID, username, tokenURL)
			lk.leaks.AddToken(a)
			r := lk.client.postForm(t, tokenURL, url.Values{"grant_type": {jwtBearerGrant}, "assertion": {a}}, basic{})
			if r.status == http.StatusOK {
				lk.leaks.AddToken(r.str("access_token"))
			}
			return r
		}
		settingsPath := wsPath + "/clients/" + c.ClientID + "/jwt-bearer"
		for _, tc := range []struct {
			name     string
			settings map[string]any // nil: the client's settings as created
			params   map[string]string
			admitted []string
		}{
			{"nobody by default", nil, map[string]string{}, nil},
			{"profiles", map[string]any{"pre_auth": "admin_approved", "allowed_profiles": []string{"sales"}},
				map[string]string{"profiles": "sales"}, []string{"ann"}},
			{"users", map[string]any{"pre_auth": "admin_approved", "allowed_users": []string{"u-cat"}},
				map[string]string{"users": "u-cat"}, []string{"cat"}},
			{"profiles and users", map[string]any{"pre_auth": "admin_approved", "allowed_profiles": []string{"sales"},
				"allowed_users": []string{"u-cat"}}, map[string]string{"profiles": "sales", "users": "u-cat"}, []string{"ann", "cat"}},
			{"all users", map[string]any{"pre_auth": "all_users", "allowed_profiles": []string{"sales"}},
				map[string]string{"all_users": "true"}, []string{"ann", "bob", "cat"}},
			{"nobody approved", map[string]any{"pre_auth": "admin_approved"}, map[string]string{}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.settings != nil {
					lk.adminOK(t, http.MethodPut, settingsPath, tc.settings, http.StatusOK, nil)
				}
				var view struct {
					Policy struct {
						Template string            `json:"template"`
						Params   map[string]string `json:"params"`
						Rules    []struct {
							Condition string `json:"condition"`
						} `json:"rules"`
					} `json:"pre_authorization_policy"`
				}
				lk.adminOK(t, http.MethodGet, settingsPath, nil, http.StatusOK, &view)
				if view.Policy.Template != "profiles" || len(view.Policy.Rules) != 2 || !maps.Equal(view.Policy.Params, tc.params) {
					t.Fatalf("view %+v, want the profiles template with %v", view.Policy, tc.params)
				}
				for _, u := range []string{"ann", "bob", "cat"} {
					r := grant(u)
					switch admitted := slices.Contains(tc.admitted, u); {
					case admitted && r.status != http.StatusOK:
						t.Errorf("%s: %d %s, want a token", u, r.status, r.raw)
					case !admitted && (r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" ||
						r.str("error_description") != "user is not pre-authorized for this app"):
						t.Errorf("%s: %d %s, want 400 invalid_grant 'user is not pre-authorized for this app'", u, r.status, r.raw)
					}
				}
			})
		}
		t.Run("the user policy applies in addition", func(t *testing.T) {
			lk.adminOK(t, http.MethodPut, settingsPath, map[string]any{"pre_auth": "all_users"}, http.StatusOK, nil)
			lk.adminOK(t, http.MethodPost, wsPath+"/policies", map[string]any{"id": "no-cat", "name": "No cat", "kind": "user",
				"rules": []map[string]any{{"condition": `user.username == "cat"`, "outcome": "deny", "message": "cat may not use this app"},
					{"condition": "true", "outcome": "allow"}}}, http.StatusCreated, nil)
			lk.adminOK(t, http.MethodPut, wsPath+"/clients/"+c.ClientID+"/policies", map[string]any{"user_policy_id": "no-cat"}, http.StatusOK, nil)
			if r := grant("ann"); r.status != http.StatusOK {
				t.Fatalf("ann: %d %s", r.status, r.raw)
			}
			if r := grant("cat"); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" ||
				!strings.Contains(r.str("error_description"), "cat may not use this app") {
				t.Fatalf("cat: %d %s, want the user policy's denial", r.status, r.raw)
			}
		})
	})
}
