package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/grants/grantstest"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// tokenAs posts to the token endpoint as client id/secret.
func (f *flowFixture) tokenAs(t testing.TB, id, secret string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, f.issuer+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct{ Error string }
	_ = json.Unmarshal(b, &e)
	return resp.StatusCode, e.Error
}

// TestCodeRedemptionErrors: one code per case, each refused with
// invalid_grant (SECURITY.md F4–F7, G3, G4, G7).
func TestCodeRedemptionErrors(t *testing.T) {
	f := newFlowFixture(t)
	other := grantstest.NewSecret()
	ct, err := f.r.srv.keyring.Encrypt([]byte(other), grantstest.SecretAAD("default", "other"))
	must(t, err)
	must(t, f.r.srv.store.CreateClient(t.Context(), storage.Client{WorkspaceID: "default", ID: "other", Name: "Other", Enabled: true,
		Type: oauth2.ClientConfidential, GrantTypes: []string{oauth2.GrantAuthorizationCode}, RedirectURIs: []string{flowRedirect},
		TokenEndpointAuthMethod: oauth2.AuthClientSecretBasic, SecretCiphertext: ct}))

	cases := []struct {
		name string
		as   string
		mod  func(form url.Values, verifier string)
	}{
		{"F4 verifier missing", "webapp", func(form url.Values, _ string) { form.Del("code_verifier") }},
		{"F5 wrong verifier", "webapp", func(form url.Values, _ string) { form.Set("code_verifier", strings.Repeat("a", 43)) }},
		{"F7 verifier too short", "webapp", func(form url.Values, v string) { form.Set("code_verifier", v[:42]) }},
		{"G4 other redirect_uri", "webapp", func(form url.Values, _ string) { form.Set("redirect_uri", flowRedirect+"/x") }},
		{"G4 missing redirect_uri", "webapp", func(form url.Values, _ string) { form.Del("redirect_uri") }},
		{"G7 tampered code", "webapp", func(form url.Values, _ string) { form.Set("code", form.Get("code")[:40]) }},
		{"G3 other client", "other", func(url.Values, string) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			verifier, challenge := pkce()
			form := url.Values{"grant_type": {"authorization_code"}, "code": {f.authorize(t, "openid", challenge, "s")},
				"redirect_uri": {flowRedirect}, "code_verifier": {verifier}}
			tc.mod(form, verifier)
			secret := f.secret
			if tc.as == "other" {
				secret = other
			}
			if status, code := f.tokenAs(t, tc.as, secret, form); status != http.StatusBadRequest || code != "invalid_grant" {
				t.Fatalf("status %d error %q", status, code)
			}
			if tc.name == "G3 other client" {
				// The code is burnt: its own client cannot redeem it either.
				if status, _ := f.tokenAs(t, "webapp", f.secret, form); status != http.StatusBadRequest {
					t.Fatalf("code redeemed after a wrong-client attempt: %d", status)
				}
			}
		})
	}
}

// TestPKCEDowngrade is F6: a confidential client that may skip PKCE cannot
// add a code_verifier at the token endpoint when no challenge was sent.
func TestPKCEDowngrade(t *testing.T) {
	f := newFlowFixture(t)
	off := false
	_, err := f.r.srv.store.UpdateClient(t.Context(), "default", "webapp", func(c storage.Client) (storage.Client, error) {
		c.RequirePKCE = &off
		return c, nil
	})
	must(t, err)
	code := f.authorize(t, "openid", "", "s")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {flowRedirect},
		"code_verifier": {strings.Repeat("v", 43)}}
	if status, e := f.tokenAs(t, "webapp", f.secret, form); status != http.StatusBadRequest || e != "invalid_grant" {
		t.Fatalf("downgrade: %d %q", status, e)
	}
}
