package console

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// TestBrowserSeedCMiC walks seed guide 002 (CMiC: the customer's identity
// provider issues a JWT naming a service user in a claim) in a real
// chromium, screen by screen from an empty server to a token: the first
// admin on the setup page; a service with its scope; the service user; the
// client with a chosen client ID, its secret copied from the creation
// page; the JWT bearer grant on the OAuth tab, the scope; the trusted
// issuer with the IdP's keys pasted and the client ticked in its list; the
// service user pre-authorized on the JWT bearer section; then the IdP's
// JWT buys a token for the service user (golang.org/x/oauth2). Screenshots
// go to LATCHKEY_TEST_ARTIFACTS/<test>.
func TestBrowserSeedCMiC(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	e := startServer(t)
	ctx := chromium(t)
	shots := e2etest.ArtifactsDir(t)
	const pw = "cmic admin passphrase"
	e.leaks.Add(pw)
	const idpIssuer, audience = "https://login.example.com/tenant/v2.0", "api://cmic"

	// The identity provider's signing key; its public JWKS is what the
	// administrator pastes.
	idpKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &idpKey.PublicKey, KeyID: "idp-1", Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}

	steps.Run(t, ctx, "setup page: the first admin",
		chromedp.Navigate(e.base+"/console/"),
		chromedp.WaitVisible(chromedp.ID("bootstrap_token")),
		chromedp.SendKeys(chromedp.ID("bootstrap_token"), e.adminToken),
		chromedp.SendKeys(chromedp.ID("username"), "root"),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		click(`form[action="/console/setup"] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/clients/new"]`)),
		e2etest.Screenshot(shots, "01-clients.png"),
	)
	steps.Run(t, ctx, "Services → New service with the scope api",
		click(`nav a[href$="/services"]`),
		click(`a[href$="/services/new"]`),
		chromedp.WaitVisible(chromedp.ID("identifier")),
		loaded,
		chromedp.SendKeys(chromedp.ID("name"), "CMiC API"),
		chromedp.SendKeys(chromedp.ID("identifier"), "https://api.cmic.example"),
		chromedp.SendKeys(chromedp.ID("scopes"), "api Call the CMiC API\n"),
		click(`main form button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/delete"]`)),
		e2etest.Screenshot(shots, "02-service.png"),
	)
	steps.Run(t, ctx, "Users → New user: the service user",
		click(`nav a[href$="/users"]`),
		click(`a[href$="/users/new"]`),
		chromedp.WaitVisible(chromedp.ID("username")),
		loaded,
		chromedp.SendKeys(chromedp.ID("username"), "svc-user"),
		checkbox(`input[name=service_user]`, true),
		click(`main form button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/delete"]`)),
		e2etest.Screenshot(shots, "03-service-user.png"),
	)
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	userID := loc[strings.LastIndex(loc, "/")+1:]

	steps.Run(t, ctx, "Clients → New client cmic-integration: the secret is shown once",
		click(`nav a[href$="/clients"]`),
		click(`a[href$="/clients/new"]`),
		chromedp.WaitVisible(chromedp.ID("client_id")),
		loaded,
		chromedp.SendKeys(chromedp.ID("client_id"), "cmic-integration"),
		chromedp.SendKeys(chromedp.ID("name"), "CMiC integration"),
		chromedp.SendKeys(chromedp.ID("contact_email"), "cmic-owner@example.com"),
		click(`input[name=type][value=web]`),
		chromedp.SendKeys(chromedp.ID("redirect_uri"), "https://cmic.example/cb"),
		click(`main form button[type=submit]`),
		chromedp.WaitVisible(chromedp.ID("client-secret")),
		e2etest.Screenshot(shots, "04-client-created.png"),
	)
	secret, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("client-secret")))
	secret = strings.TrimSpace(secret)
	if err != nil || secret == "" {
		t.Fatalf("secret at creation: %v", err)
	}
	e.leaks.Add(secret)
	steps.Run(t, ctx, "OAuth tab: only the JWT bearer grant, no callback",
		click(`.tabs a[href$="/oauth"]`),
		chromedp.WaitVisible(chromedp.ID("redirect_uris")),
		loaded,
		setField("redirect_uris", ""),
		checkbox(`input[name=grant_types][value=authorization_code]`, false),
		checkbox(`input[name=grant_types][value="`+jwtBearerGrant+`"]`, true),
		checkbox(`input[name=response_types][value=code]`, false),
		click(`form[action$="/oauth"] button[type=submit]`),
		waitText(`.notice`, "Saved"),
		waitText(`#jwt-grant-state`, "enabled"),
		e2etest.Screenshot(shots, "05-client-oauth.png"),
	)
	steps.Run(t, ctx, "Scopes tab: api",
		click(`.tabs a[href$="/scopes"]`),
		chromedp.WaitVisible(chromedp.CSS(`input[name=scopes][value=api]`)),
		loaded,
		checkbox(`input[name=scopes][value=api]`, true),
		click(`form[action$="/scopes"] button[type=submit]`),
		waitText(`.notice`, "Saved"),
	)
	steps.Run(t, ctx, "Trusted issuers → New: the IdP, its keys, the client ticked from the list",
		click(`nav a[href$="/trusted-issuers"]`),
		click(`a[href$="/trusted-issuers/new"]`),
		chromedp.WaitVisible(chromedp.CSS(`input[name=allowed_clients][value=cmic-integration]`)),
		loaded,
		chromedp.SendKeys(chromedp.ID("id"), "corp-idp"),
		chromedp.SendKeys(chromedp.ID("name"), "Corporate IdP"),
		chromedp.SendKeys(chromedp.ID("issuer"), idpIssuer),
		setField("jwks", string(jwks)),
		chromedp.SendKeys(chromedp.ID("audience"), audience),
		checkbox(`input[name=allowed_clients][value=cmic-integration]`, true),
		chromedp.SendKeys(chromedp.ID("claim"), "cmicuser"),
		setField("claim_format", "tenant||username"),
		e2etest.Screenshot(shots, "06-trusted-issuer.png"),
		click(`form[action$="/trusted-issuers/new"] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/trusted-issuers/corp-idp/delete"]`)),
	)
	steps.Run(t, ctx, "client OAuth tab, JWT bearer section: the service user pre-authorized",
		chromedp.Navigate(e.base+"/console/w/default/clients/cmic-integration/oauth"),
		chromedp.WaitVisible(chromedp.ID("jwt-h")),
		click(`input[name=pre_auth][value=admin_approved]`),
		checkbox(`input[name=allowed_users][value="`+userID+`"]`, true),
		click(`form[action$="/jwt-bearer"] button[type=submit]`),
		waitText(`.notice`, "JWT bearer settings saved"),
		chromedp.ScrollIntoView(chromedp.ID("jwt-h")),
		e2etest.ViewportShot(shots, "07-jwt-bearer.png"),
	)

	// The IdP's JWT, as the guide shows it.
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: idpKey},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "idp-1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	payload, _ := json.Marshal(map[string]any{"iss": idpIssuer, "aud": audience, "sub": "cmic-app-id", "cmicuser": "acme||svc-user",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": e2etest.RandomToken(16)})
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	assertion, _ := jws.CompactSerialize()
	cfg := clientcredentials.Config{ClientID: "cmic-integration", ClientSecret: secret, TokenURL: e.base + "/w/default/oauth2/token",
		AuthStyle: oauth2.AuthStyleInHeader, Scopes: []string{"api"},
		EndpointParams: url.Values{"grant_type": {jwtBearerGrant}, "assertion": {assertion}}}
	tok, err := cfg.Token(t.Context())
	if err != nil {
		t.Fatalf("JWT bearer grant with the IdP's JWT: %v", err)
	}
	e.leaks.Add(tok.AccessToken)
	parts := strings.Split(tok.AccessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT: %d parts", len(parts))
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil || claims["sub"] != userID || claims["client_id"] != "cmic-integration" {
		t.Errorf("token claims %v (%v), want sub %s and client_id cmic-integration", claims, err, userID)
	}
}
