package console

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// TestBrowserClientProtocols drives the client's Protocols tab in a real
// chromium: require DPoP (RFC 9449 §5.2), require PAR with signed request
// objects (RFC 9126 §6, RFC 9101), and the token exchange settings (RFC
// 8693) with a trusted issuer chosen from the list, an audience,
// impersonation (whose warning follows the box) and delegation. An
// unsaved token exchange edit survives the DPoP section's save; each
// section is saved with its own button, the page reloaded, and the admin
// API shows every value.
//
// Screenshots go to LATCHKEY_TEST_ARTIFACTS/<test>.
func TestBrowserClientProtocols(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	e := startServer(t)
	e.createSuperAdmin(t, "root", "correct horse battery")
	ctx0 := t.Context()
	if _, err := e.admin.TrustedIssuers("default").Create(ctx0, adminclient.TrustedIssuerRequest{
		ID: adminclient.Ptr("partner"), Name: adminclient.Ptr("Partner IdP"), Issuer: adminclient.Ptr("https://idp.example"),
		JWKSURI: adminclient.Ptr("https://idp.example/jwks"), Claim: adminclient.Ptr("sub"), ClaimFormat: adminclient.Ptr("plain"),
		Enabled: adminclient.Ptr(true)}); err != nil {
		t.Fatal(err)
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Public(), KeyID: "k1"}}})
	const id = "gateway"
	if _, err := e.admin.Clients("default").Create(ctx0, adminclient.OAuthClientRequest{
		ClientID: adminclient.Ptr(id), Name: adminclient.Ptr("Gateway"), Type: adminclient.Ptr("confidential"),
		ApplicationType: adminclient.Ptr("web"), TokenEndpointAuthMethod: adminclient.Ptr("client_secret_basic"),
		GrantTypes:    &[]string{"authorization_code", "urn:ietf:params:oauth:grant-type:token-exchange"},
		ResponseTypes: &[]string{"code"}, RedirectURIs: &[]string{"https://gateway.example/cb"}, JWKS: jwks}); err != nil {
		t.Fatal(err)
	}
	ctx := chromium(t)
	shots := e2etest.ArtifactsDir(t)
	const (
		accessType = "urn:ietf:params:oauth:token-type:access_token"
		jwtType    = "urn:ietf:params:oauth:token-type:jwt"
	)

	steps.Run(t, ctx, "sign in", e.signIn("root", "correct horse battery"))
	steps.Run(t, ctx, "Protocols tab",
		chromedp.Navigate(e.base+"/console/w/default/clients/"+id+"/protocols"),
		chromedp.WaitVisible(chromedp.ID("te-h")),
		loaded,
		e2etest.Screenshot(shots, "01-protocols.png"),
	)
	if hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("impersonate-warning").hidden`)); !hidden {
		t.Error("the impersonation warning shows while impersonation is off")
	}
	steps.Run(t, ctx, "tick delegation (unsaved), require DPoP and save only that",
		checkbox(`input[name=may_delegate]`, true),
		checkbox(`#dpop_bound_access_tokens`, true),
		click(`form[action$="/protocols/dpop"] button[type=submit]`),
		waitText(`.notice`, "DPoP settings saved"),
		loaded,
		chromedp.WaitVisible(chromedp.ID("unsaved-kept")),
		e2etest.Screenshot(shots, "02-dpop-saved-edit-kept.png"),
	)
	if on, _ := chromedp.Run(ctx, chromedp.JavascriptAttribute[bool](chromedp.CSS(`input[name=may_delegate]`), "checked")); !on {
		t.Error("the unsaved delegation edit was lost by the DPoP save")
	}
	if te, _ := e.admin.ClientTokenExchange(ctx0, "default", id); te.MayDelegate {
		t.Error("saving the DPoP section stored the token exchange edit")
	}

	steps.Run(t, ctx, "require PAR with ES256 request objects",
		checkbox(`#require_pushed_authorization_requests`, true),
		chromedp.SetValue(chromedp.ID("request_object_signing_alg"), "ES256"),
		click(`form[action$="/protocols/signed-requests"] button[type=submit]`),
		waitText(`.notice`, "Pushed and signed request settings saved"),
		loaded,
	)
	steps.Run(t, ctx, "token exchange: types, trusted issuer, audience, impersonation with its warning, delegation",
		checkbox(`input[name=subject_token_types][value="`+accessType+`"]`, true),
		checkbox(`input[name=subject_token_types][value="`+jwtType+`"]`, true),
		checkbox(`input[name=allowed_issuers][value=partner]`, true),
		chromedp.SendKeys(chromedp.ID("allowed_audiences"), "https://orders.example"),
		checkbox(`#may_impersonate`, true),
		chromedp.WaitVisible(chromedp.ID("impersonate-warning")),
		checkbox(`#may_delegate`, true),
		e2etest.Screenshot(shots, "03-token-exchange-warning.png"),
		click(`form[action$="/protocols/token-exchange"] button[type=submit]`),
		waitText(`.notice`, "Token exchange settings saved"),
		loaded,
	)
	steps.Run(t, ctx, "reload",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("impersonate-warning")),
		loaded,
		e2etest.Screenshot(shots, "04-reloaded.png"),
	)
	for _, sel := range []string{`#dpop_bound_access_tokens`, `#require_pushed_authorization_requests`, `#may_impersonate`, `#may_delegate`,
		`input[name=allowed_issuers][value=partner]`, `input[name=subject_token_types][value="` + jwtType + `"]`} {
		if on, err := chromedp.Run(ctx, chromedp.JavascriptAttribute[bool](chromedp.CSS(sel), "checked")); err != nil || !on {
			t.Errorf("after the reload %s is not ticked (%v)", sel, err)
		}
	}
	if alg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("request_object_signing_alg").value`)); alg != "ES256" {
		t.Errorf("request object algorithm after the reload %q", alg)
	}

	got, err := e.admin.Clients("default").Get(ctx0, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.DPoPBoundAccessTokens == nil || !*got.DPoPBoundAccessTokens ||
		got.RequirePushedAuthorizationRequests == nil || !*got.RequirePushedAuthorizationRequests ||
		got.RequestObjectSigningAlg == nil || *got.RequestObjectSigningAlg != "ES256" {
		t.Errorf("admin API: dpop %v, par %v, request object alg %v", deref(got.DPoPBoundAccessTokens), deref(got.RequirePushedAuthorizationRequests), deref(got.RequestObjectSigningAlg))
	}
	te, err := e.admin.ClientTokenExchange(ctx0, "default", id)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(te.SubjectTokenTypes, []string{accessType, jwtType}) || !slices.Equal(te.AllowedIssuers, []string{"partner"}) ||
		!slices.Equal(te.AllowedAudiences, []string{"https://orders.example"}) || !te.MayImpersonate || !te.MayDelegate || te.RefreshTokens {
		t.Errorf("admin API token exchange settings: %+v", te)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
