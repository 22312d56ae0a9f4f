package console

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// TestBrowserSeedServiceNow walks seed guide 003 (ServiceNow: a keystore's
// certificate uploaded with the kid of the JWT verifier map, the user
// named by e-mail, client ID and secret sent with the assertion) in a real
// chromium, screen by screen, to a token: the client with a chosen ID and
// its secret copied at creation; the JWT bearer grant and
// client_secret_post on the OAuth tab; the scope; the certificate pasted
// with its kid; the user field e-mail and the pre-authorized user; then
// golang.org/x/oauth2 gets the token. Screenshots go to
// LATCHKEY_TEST_ARTIFACTS/<test>.
func TestBrowserSeedServiceNow(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	e := startServer(t)
	e.createSuperAdmin(t, "root", "correct horse battery")
	e.createService(t, "CRM", "https://crm.example/api", adminclient.Scope{Name: "crm:read", Description: "Read CRM"})
	alice, err := e.admin.Users("default").Create(t.Context(), adminclient.UserRequest{
		Username: adminclient.Ptr("alice"), Email: adminclient.Ptr("alice@example.com"), Active: adminclient.Ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	signer := e2etest.NewAssertionSigner(t) // the keystore's key; its certificate is uploaded with kid "e2e"
	ctx := chromium(t)
	shots := e2etest.ArtifactsDir(t)

	steps.Run(t, ctx, "sign in", e.signIn("root", "correct horse battery"))
	steps.Run(t, ctx, "Clients → New client servicenow-app",
		click(`a[href$="/clients/new"]`),
		chromedp.WaitVisible(chromedp.ID("client_id")),
		loaded,
		chromedp.SendKeys(chromedp.ID("client_id"), "servicenow-app"),
		chromedp.SendKeys(chromedp.ID("name"), "ServiceNow"),
		click(`input[name=type][value=web]`),
		chromedp.SendKeys(chromedp.ID("redirect_uri"), "https://servicenow.example/cb"),
		click(`main form button[type=submit]`),
		chromedp.WaitVisible(chromedp.ID("client-secret")),
		e2etest.Screenshot(shots, "01-client-created.png"),
	)
	secret, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("client-secret")))
	secret = strings.TrimSpace(secret)
	if err != nil || secret == "" {
		t.Fatalf("secret at creation: %v", err)
	}
	e.leaks.Add(secret)
	steps.Run(t, ctx, "OAuth tab: JWT bearer grant, client_secret_post",
		click(`.tabs a[href$="/oauth"]`),
		chromedp.WaitVisible(chromedp.ID("redirect_uris")),
		loaded,
		setField("redirect_uris", ""),
		checkbox(`input[name=grant_types][value=authorization_code]`, false),
		checkbox(`input[name=grant_types][value="`+jwtBearerGrant+`"]`, true),
		checkbox(`input[name=response_types][value=code]`, false),
		setField("token_endpoint_auth_method", "client_secret_post"),
		click(`form[action$="/oauth"] button[type=submit]`),
		waitText(`.notice`, "Saved"),
		waitText(`#jwt-grant-state`, "enabled"),
	)
	steps.Run(t, ctx, "OAuth tab: paste the certificate with the verifier map's kid",
		setField("certificate_pem", signer.CertPEM),
		chromedp.SendKeys(chromedp.ID("kid"), "e2e"),
		click(`form[action$="/certificates"] button[type=submit]`),
		waitText(`.notice`, "Certificate added (kid e2e)"),
		chromedp.ScrollIntoView(chromedp.ID("certs-h")),
		e2etest.ViewportShot(shots, "02-certificate.png"),
	)
	steps.Run(t, ctx, "JWT bearer section: user field e-mail, alice pre-authorized",
		setField("user_field", "email"),
		click(`input[name=pre_auth][value=admin_approved]`),
		checkbox(`input[name=allowed_users][value="`+alice.ID+`"]`, true),
		click(`form[action$="/jwt-bearer"] button[type=submit]`),
		waitText(`.notice`, "JWT bearer settings saved"),
		chromedp.ScrollIntoView(chromedp.ID("jwt-h")),
		e2etest.ViewportShot(shots, "03-jwt-bearer.png"),
	)
	steps.Run(t, ctx, "Scopes tab: crm:read",
		click(`.tabs a[href$="/scopes"]`),
		chromedp.WaitVisible(chromedp.CSS(`input[name=scopes][value="crm:read"]`)),
		loaded,
		checkbox(`input[name=scopes][value="crm:read"]`, true),
		click(`form[action$="/scopes"] button[type=submit]`),
		waitText(`.notice`, "Saved"),
		e2etest.Screenshot(shots, "04-scopes.png"),
	)
	// As ServiceNow sends it: client_id and client_secret in the form,
	// aud = iss = the client ID, sub = the user's e-mail.
	cfg := clientcredentials.Config{ClientID: "servicenow-app", ClientSecret: secret, TokenURL: e.base + "/w/default/oauth2/token",
		AuthStyle: oauth2.AuthStyleInParams, Scopes: []string{"crm:read"},
		EndpointParams: url.Values{"grant_type": {jwtBearerGrant},
			"assertion": {signer.Assertion(t, "servicenow-app", "alice@example.com", "servicenow-app")}}}
	tok, err := cfg.Token(t.Context())
	if err != nil {
		t.Fatalf("JWT bearer grant as ServiceNow sends it: %v", err)
	}
	e.leaks.Add(tok.AccessToken)
	if tok.AccessToken == "" {
		t.Fatal("no access token")
	}
}

// TestBrowserSeedCloudentity walks seed guide 004 (Cloudentity: a
// workspace whose services expose scopes, and a client application that
// subscribes to them) in a real chromium, screen by screen, to a token:
// New workspace; a service with its scopes; a service (machine to
// machine) client whose secret is copied at creation; its scopes; then a
// client_credentials token of the new workspace. Screenshots go to
// LATCHKEY_TEST_ARTIFACTS/<test>.
func TestBrowserSeedCloudentity(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	e := startServer(t)
	e.createSuperAdmin(t, "root", "correct horse battery")
	ctx := chromium(t)
	shots := e2etest.ArtifactsDir(t)

	steps.Run(t, ctx, "sign in", e.signIn("root", "correct horse battery"))
	steps.Run(t, ctx, "New workspace",
		click(`header a[href$="/workspaces/new"]`),
		chromedp.WaitVisible(chromedp.ID("id")),
		loaded,
		chromedp.SendKeys(chromedp.ID("id"), "shop"),
		chromedp.SendKeys(chromedp.ID("name"), "Shop"),
		click(`main form button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`nav a[aria-current=page][href="/console/w/shop/settings"]`)),
		e2etest.Screenshot(shots, "01-workspace.png"),
	)
	steps.Run(t, ctx, "Services → New service: the resource server and its scopes",
		click(`nav a[href$="/services"]`),
		click(`a[href$="/services/new"]`),
		chromedp.WaitVisible(chromedp.ID("identifier")),
		loaded,
		chromedp.SendKeys(chromedp.ID("name"), "Orders"),
		chromedp.SendKeys(chromedp.ID("identifier"), "https://orders.shop.example"),
		chromedp.SendKeys(chromedp.ID("scopes"), "orders.read Read orders\norders.write Change orders\n"),
		click(`main form button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/delete"]`)),
		e2etest.Screenshot(shots, "02-service.png"),
	)
	steps.Run(t, ctx, "Clients → New client: service (machine to machine)",
		click(`nav a[href$="/clients"]`),
		click(`a[href$="/clients/new"]`),
		chromedp.WaitVisible(chromedp.ID("client_id")),
		loaded,
		chromedp.SendKeys(chromedp.ID("name"), "Order sync"),
		click(`input[name=type][value=service]`),
		click(`main form button[type=submit]`),
		chromedp.WaitVisible(chromedp.ID("client-secret")),
		e2etest.Screenshot(shots, "03-client-created.png"),
	)
	id, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("client-id")))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("client-secret")))
	id, secret = strings.TrimSpace(id), strings.TrimSpace(secret)
	if err != nil || secret == "" || id == "" {
		t.Fatalf("client ID %q and secret at creation: %v", id, err)
	}
	e.leaks.Add(secret)
	steps.Run(t, ctx, "Scopes tab: subscribe to orders.read",
		click(`.tabs a[href$="/scopes"]`),
		chromedp.WaitVisible(chromedp.CSS(`input[name=scopes][value="orders.read"]`)),
		loaded,
		checkbox(`input[name=scopes][value="orders.read"]`, true),
		click(`form[action$="/scopes"] button[type=submit]`),
		waitText(`.notice`, "Saved"),
		e2etest.Screenshot(shots, "04-scopes.png"),
	)
	cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: e.base + "/w/shop/oauth2/token",
		AuthStyle: oauth2.AuthStyleInHeader, Scopes: []string{"orders.read"}}
	tok, err := cfg.Token(t.Context())
	if err != nil {
		t.Fatalf("client_credentials in the new workspace: %v", err)
	}
	e.leaks.Add(tok.AccessToken)
	if got, _ := tok.Extra("scope").(string); got != "orders.read" {
		t.Errorf("scope %q, want orders.read", got)
	}
}
