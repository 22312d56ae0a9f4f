package grants_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/storage"
)

// refreshFixture adds to the JWT bearer fixture two clients signing with
// rsaKeyA: "jb-refresh" enables refresh tokens on the grant and may use the
// refresh_token grant; "jb-no-rt-grant" enables them but lacks that grant
// type (the service layer refuses this; the token endpoint issues none).
func refreshFixture(t *testing.T) *bearerFixture {
	t.Helper()
	f := newBearerFixture(t)
	now := time.Now()
	on := &storage.JWTBearerSettings{RefreshTokens: true}
	for id, grantTypes := range map[string][]string{
		"jb-refresh":     {oauth2.GrantJWTBearer, oauth2.GrantRefreshToken},
		"jb-no-rt-grant": {oauth2.GrantJWTBearer},
	} {
		f.client(t, storage.Client{ID: id, Scopes: allScopes, GrantTypes: grantTypes,
			TokenEndpointAuthMethod: oauth2.AuthClientSecretPost, JWTBearer: on})
		f.uploadCert(t, id, "k-"+id, selfSigned(t, rsaKeyA, id, 0, now.Add(-time.Hour), now.Add(24*time.Hour)))
	}
	return f
}

// assertionOf is a valid assertion of clientID (signed with rsaKeyA) for sub.
func (f *bearerFixture) assertionOf(t testing.TB, clientID, sub string) string {
	kid := "k-" + clientID
	if clientID == "rows" {
		kid = "k1"
	}
	return sign(t, jose.RS256, rsaKeyA, kid, bearerClaims(clientID, sub, f.tokenURL("acme")))
}

// postAs sends form to the token endpoint with clientID's
// client_secret_post credentials.
func (f *bearerFixture) postAs(t testing.TB, clientID string, form url.Values) *http.Response {
	form.Set("client_id", clientID)
	form.Set("client_secret", f.secrets[clientID])
	return f.post(t, "acme", form, "", "")
}

func (f *bearerFixture) refresh(t testing.TB, clientID, refreshToken string) *http.Response {
	return f.postAs(t, clientID, url.Values{"grant_type": {oauth2.GrantRefreshToken}, "refresh_token": {refreshToken}})
}

// tokenReply is a successful token response that may carry a refresh token.
type tokenReply struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	claims       map[string]any
}

func decodeReply(t *testing.T, resp *http.Response) tokenReply {
	t.Helper()
	var r tokenReply
	if err := json.Unmarshal(okBody(t, resp), &r); err != nil {
		t.Fatal(err)
	}
	payload, err := b64Decode(strings.Split(r.AccessToken, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(payload, &r.claims); err != nil {
		t.Fatal(err)
	}
	return r
}

// liveFamilies counts (and ends) the live token families of a user and
// client: RevokeTokenFamilies reports how many it revoked.
func (f *bearerFixture) liveFamilies(t *testing.T, userID, clientID string) int64 {
	t.Helper()
	n, err := f.env.DB.RevokeTokenFamilies(context.Background(), "acme", userID, clientID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestJWTBearerRefreshTokens: no refresh token unless
// the client enables them for the grant; then one that the unchanged
// refresh_token grant redeems (rotation, reuse detection, active user).
func TestJWTBearerRefreshTokens(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, f *bearerFixture)
	}{
		{"flag off: no refresh token, no family claim", func(t *testing.T, f *bearerFixture) {
			r := decodeReply(t, f.postAs(t, "rows", bearerForm(f.assertionOf(t, "rows", "alice"))))
			if r.RefreshToken != "" || r.claims[oidc.FamilyClaim] != nil {
				t.Fatalf("refresh token %q, rtf %v; want neither", r.RefreshToken, r.claims[oidc.FamilyClaim])
			}
		}},
		{"flag on without the refresh_token grant type: no refresh token", func(t *testing.T, f *bearerFixture) {
			r := decodeReply(t, f.postAs(t, "jb-no-rt-grant", bearerForm(f.assertionOf(t, "jb-no-rt-grant", "alice"))))
			if r.RefreshToken != "" {
				t.Fatalf("refresh token %q issued to a client without the refresh_token grant", r.RefreshToken)
			}
			if n := f.liveFamilies(t, "usr-alice", "jb-no-rt-grant"); n != 0 {
				t.Fatalf("%d families created", n)
			}
		}},
		{"flag on: refresh token, refreshed for the same user and client", func(t *testing.T, f *bearerFixture) {
			first := decodeReply(t, f.postAs(t, "jb-refresh", bearerForm(f.assertionOf(t, "jb-refresh", "alice"))))
			if !strings.HasPrefix(first.RefreshToken, "lkrt_") {
				t.Fatalf("refresh token %q", first.RefreshToken)
			}
			if fam, _ := first.claims[oidc.FamilyClaim].(string); fam == "" {
				t.Fatalf("access token without %s claim: %v", oidc.FamilyClaim, first.claims)
			}
			next := decodeReply(t, f.refresh(t, "jb-refresh", first.RefreshToken))
			for _, c := range []string{"sub", "client_id", "scope", oidc.FamilyClaim} {
				if next.claims[c] != first.claims[c] {
					t.Errorf("refreshed %s = %v, first = %v", c, next.claims[c], first.claims[c])
				}
			}
			if next.claims["sub"] != "usr-alice" || next.claims["client_id"] != "jb-refresh" || next.AccessToken == first.AccessToken {
				t.Fatalf("refreshed claims %v", next.claims)
			}
			if next.RefreshToken == "" || next.RefreshToken == first.RefreshToken {
				t.Fatalf("refresh token not rotated: %q", next.RefreshToken)
			}
			if n := f.liveFamilies(t, "usr-alice", "jb-refresh"); n != 1 {
				t.Fatalf("%d live families, want 1", n)
			}
		}},
		{"flag on: reuse of a rotated refresh token revokes the family (H1)", func(t *testing.T, f *bearerFixture) {
			first := decodeReply(t, f.postAs(t, "jb-refresh", bearerForm(f.assertionOf(t, "jb-refresh", "alice"))))
			next := decodeReply(t, f.refresh(t, "jb-refresh", first.RefreshToken))
			assertError(t, f.refresh(t, "jb-refresh", first.RefreshToken), http.StatusBadRequest, "invalid_grant")
			assertError(t, f.refresh(t, "jb-refresh", next.RefreshToken), http.StatusBadRequest, "invalid_grant")
		}},
		{"flag on: refresh token of another client is refused (H7)", func(t *testing.T, f *bearerFixture) {
			f.client(t, storage.Client{ID: "jb-refresh-2", Scopes: allScopes, TokenEndpointAuthMethod: oauth2.AuthClientSecretPost,
				GrantTypes: []string{oauth2.GrantJWTBearer, oauth2.GrantRefreshToken}})
			first := decodeReply(t, f.postAs(t, "jb-refresh", bearerForm(f.assertionOf(t, "jb-refresh", "alice"))))
			assertError(t, f.refresh(t, "jb-refresh-2", first.RefreshToken), http.StatusBadRequest, "invalid_grant")
			decodeReply(t, f.refresh(t, "jb-refresh", first.RefreshToken))
		}},
		{"flag on: replayed assertion is invalid_grant and creates no family (C7)", func(t *testing.T, f *bearerFixture) {
			a := f.assertionOf(t, "jb-refresh", "alice")
			decodeReply(t, f.postAs(t, "jb-refresh", bearerForm(a)))
			e := assertError(t, f.postAs(t, "jb-refresh", bearerForm(a)), http.StatusBadRequest, "invalid_grant")
			if e.Description != "assertion has already been used" {
				t.Fatalf("description %q", e.Description)
			}
			a = f.assertionOf(t, "jb-refresh", "alice")
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[int]int{}
			for range 8 {
				wg.Go(func() {
					resp := f.postAs(t, "jb-refresh", bearerForm(a))
					mu.Lock()
					codes[resp.StatusCode]++
					mu.Unlock()
				})
			}
			wg.Wait()
			if codes[http.StatusOK] != 1 || codes[http.StatusBadRequest] != 7 {
				t.Fatalf("concurrent replay: %v", codes)
			}
			if n := f.liveFamilies(t, "usr-alice", "jb-refresh"); n != 2 {
				t.Fatalf("%d families for 2 accepted assertions, want 2", n)
			}
		}},
		{"flag on: user disabled after issuance cannot refresh (H9)", func(t *testing.T, f *bearerFixture) {
			first := decodeReply(t, f.postAs(t, "jb-refresh", bearerForm(f.assertionOf(t, "jb-refresh", "bob"))))
			f.setUserActive(t, "usr-bob", false)
			e := assertError(t, f.refresh(t, "jb-refresh", first.RefreshToken), http.StatusBadRequest, "invalid_grant")
			if e.Description != "the user is disabled" {
				t.Fatalf("description %q", e.Description)
			}
		}},
		{"flag on: user taken out of the pre-authorized profile cannot refresh", func(t *testing.T, f *bearerFixture) {
			f.client(t, storage.Client{ID: "jb-preauth", Scopes: allScopes, TokenEndpointAuthMethod: oauth2.AuthClientSecretPost,
				GrantTypes: []string{oauth2.GrantJWTBearer, oauth2.GrantRefreshToken},
				JWTBearer: &storage.JWTBearerSettings{RefreshTokens: true, PreAuth: storage.PreAuthAdminApproved,
					AllowedProfiles: []string{integrationProfile}}})
			now := time.Now()
			f.uploadCert(t, "jb-preauth", "k-jb-preauth", selfSigned(t, rsaKeyA, "jb-preauth", 0, now.Add(-time.Hour), now.Add(24*time.Hour)))
			first := decodeReply(t, f.postAs(t, "jb-preauth", bearerForm(f.assertionOf(t, "jb-preauth", "alice"))))
			next := decodeReply(t, f.refresh(t, "jb-preauth", first.RefreshToken))
			if _, err := f.env.Store.UpdateUser(t.Context(), "acme", "usr-alice", func(u storage.User) (storage.User, error) {
				u.Profiles = nil
				return u, nil
			}); err != nil {
				t.Fatal(err)
			}
			e := assertError(t, f.refresh(t, "jb-preauth", next.RefreshToken), http.StatusBadRequest, "invalid_grant")
			if e.Description != "user is not pre-authorized for this app" {
				t.Fatalf("description %q", e.Description)
			}
		}},
		{"flag on: offline_access is granted with the refresh token, aud from the other scopes", func(t *testing.T, f *bearerFixture) {
			form := bearerForm(f.assertionOf(t, "jb-refresh", "alice"))
			form.Set("scope", "offline_access orders:read")
			first := decodeReply(t, f.postAs(t, "jb-refresh", form))
			if !strings.HasPrefix(first.RefreshToken, "lkrt_") || first.Scope != "offline_access orders:read" {
				t.Fatalf("refresh token %q, scope %q", first.RefreshToken, first.Scope)
			}
			if aud := fmt.Sprint(first.claims["aud"]); aud != ordersAPI && aud != "["+ordersAPI+"]" {
				t.Fatalf("aud %s, want %s", aud, ordersAPI)
			}
			next := decodeReply(t, f.refresh(t, "jb-refresh", first.RefreshToken))
			if next.Scope != "offline_access orders:read" || next.RefreshToken == "" {
				t.Fatalf("refreshed scope %q, refresh token %q", next.Scope, next.RefreshToken)
			}
		}},
		{"flag on: offline_access alone grants no API scope", func(t *testing.T, f *bearerFixture) {
			form := bearerForm(f.assertionOf(t, "jb-refresh", "alice"))
			form.Set("scope", "offline_access")
			r := decodeReply(t, f.postAs(t, "jb-refresh", form))
			if r.RefreshToken == "" || r.Scope != "offline_access" {
				t.Fatalf("refresh token %q, scope %q", r.RefreshToken, r.Scope)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, refreshFixture(t)) })
	}
}

// TestJWTBearerOfflineAccessRefused: without refresh tokens on the grant
// (or without the refresh_token grant type to redeem them) offline_access
// is invalid_scope, as for any scope the client is not allowed: no refresh
// token would be issued for it.
func TestJWTBearerOfflineAccessRefused(t *testing.T) {
	f := refreshFixture(t)
	for _, client := range []string{"rows", "jb-no-rt-grant"} {
		t.Run(client, func(t *testing.T) {
			form := bearerForm(f.assertionOf(t, client, "alice"))
			form.Set("scope", "offline_access orders:read")
			e := assertError(t, f.postAs(t, client, form), http.StatusBadRequest, "invalid_scope")
			if want := "scope 'offline_access' is not allowed for this client"; e.Description != want {
				t.Fatalf("description %q, want %q", e.Description, want)
			}
		})
	}
}
