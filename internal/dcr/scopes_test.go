package dcr_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/discovery"
	"github.com/latchkey/latchkey/internal/storage"
)

// TestRegisterEveryDiscoveredScope: what discovery lists in
// scopes_supported (RFC 8414 §2) is what dynamic registration accepts in
// scope (RFC 7591 §2): the OpenID Connect scopes and the services' scopes,
// under an initial access token without a scope restriction and under one
// whose policy lists every one of them.
func TestRegisterEveryDiscoveredScope(t *testing.T) {
	v := setup(t)
	listed := discoveredScopes(t, v)
	for _, want := range []string{"openid", "profile", "email", "address", "phone", "offline_access", "read", "write"} {
		if !slices.Contains(listed, want) {
			t.Fatalf("scopes_supported %v lacks %q", listed, want)
		}
	}
	oidcScopes := []string{"address", "email", "offline_access", "openid", "phone", "profile"}
	for _, tc := range []struct {
		name, token string
		scopes      []string
	}{
		{"token without scope restriction", v.iat(1), listed},
		{"token whose policy lists every discovered scope", v.iatPolicy(1, storage.RegistrationPolicy{Scopes: listed}), listed},
		{"token whose policy lists the OpenID Connect scopes", v.iatPolicy(1, storage.RegistrationPolicy{Scopes: oidcScopes}), oidcScopes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := v.call("POST", reg, tc.token, map[string]any{
				"redirect_uris": []string{"https://app.example/cb"}, "grant_types": []string{"authorization_code", "refresh_token"},
				"scope": strings.Join(tc.scopes, " "),
			})
			if status != http.StatusCreated {
				t.Fatalf("register with scope %q: %d %v", strings.Join(tc.scopes, " "), status, body)
			}
			got := strings.Fields(body["scope"].(string))
			slices.Sort(got)
			if !slices.Equal(got, tc.scopes) {
				t.Fatalf("registered scope %v, want %v", got, tc.scopes)
			}
		})
	}
	status, body, _ := v.call("POST", reg, v.iat(1), map[string]any{
		"grant_types": []string{"client_credentials"}, "scope": "openid nonexistent",
	})
	if status != http.StatusBadRequest || body["error"] != "invalid_client_metadata" ||
		body["error_description"] != `scope[1]: scope 'nonexistent' is not an OpenID Connect scope and is not defined by any service of this workspace` {
		t.Fatalf("undiscovered scope: %d %v", status, body)
	}
}

// discoveredScopes fetches the default workspace's discovery document and
// returns its scopes_supported, sorted.
func discoveredScopes(t *testing.T, v *env) []string {
	t.Helper()
	mux := http.NewServeMux()
	(&discovery.Handler{Store: v.e.Store, BaseURL: v.srv.URL}).Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + "/w/default/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var md struct {
		ScopesSupported []string `json:"scopes_supported"`
	}
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&md) != nil {
		t.Fatalf("discovery: %d", res.StatusCode)
	}
	slices.Sort(md.ScopesSupported)
	return md.ScopesSupported
}
