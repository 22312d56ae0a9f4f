package console

import (
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// codeRE finds the one-time code in the message that "View secret" sends.
var codeRE = regexp.MustCompile(`code is (\d{6})`)

// TestBrowserSeedFlow walks the seed guide in a real chromium: create the first admin on the setup page, sign in, create a
// service with the scopes api and refresh_token, create the client named
// like the seed's (a web server app: it signs users in through the JWT
// bearer flow and calls APIs as itself), set the callback URL, turn the
// JWT bearer grant on among the grant types, pick the scopes, turn PKCE
// off, then View secret with the code read from a real SMTP
// listener, and get a client_credentials token with the revealed secret.
// Screenshots of every tab, and of a 390px-wide screen, go to
// LATCHKEY_TEST_ARTIFACTS/<test> (or a temporary directory).
func TestBrowserSeedFlow(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	e := startServer(t)
	ctx := chromium(t)
	shots := e2etest.ArtifactsDir(t)
	const pw = "correct horse battery staple"
	e.leaks.Add(pw)

	steps.Run(t, ctx, "setup page: create the first admin",
		chromedp.Navigate(e.base+"/console/"),
		chromedp.WaitVisible(chromedp.ID("bootstrap_token")),
		chromedp.SendKeys(chromedp.ID("bootstrap_token"), e.adminToken),
		chromedp.SendKeys(chromedp.ID("username"), "root"),
		chromedp.SendKeys(chromedp.ID("email"), "root@example.com"),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		click(`form[action="/console/setup"] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/clients/new"]`)),
	)
	steps.Run(t, ctx, "sign out, then sign in",
		click(`form[action="/console/signout"] button`),
		chromedp.WaitVisible(chromedp.ID("password")),
		e2etest.Screenshot(shots, "01-sign-in.png"),
		chromedp.SendKeys(chromedp.ID("username"), "root"),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		click(`form[action="/console/signin"] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/clients/new"]`)),
		e2etest.Screenshot(shots, "02-clients.png"),
	)
	steps.Run(t, ctx, "Services → New service with api and refresh_token",
		click(`nav a[href$="/services"]`),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/services/new"]`)),
		loaded,
		click(`a[href$="/services/new"]`),
		chromedp.WaitVisible(chromedp.ID("identifier")),
		loaded,
		chromedp.SendKeys(chromedp.ID("name"), "Cloudaware CMDB"),
		chromedp.SendKeys(chromedp.ID("identifier"), "https://api.cloudaware.example"),
		chromedp.SendKeys(chromedp.ID("scopes"), "api Manage user data via APIs\nrefresh_token Perform requests at any time\n"),
		click(`main form button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/delete"]`)),
		e2etest.Screenshot(shots, "03-service.png"),
	)
	steps.Run(t, ctx, "Profiles → New profile",
		click(`nav a[href$="/profiles"]`),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/profiles"] #name`)),
		loaded,
		chromedp.SendKeys(chromedp.ID("id"), "integration"),
		chromedp.SendKeys(chromedp.ID("name"), "Cloudaware Integration"),
		click(`form[action$="/profiles"] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/profiles/integration"]`)),
	)
	steps.Run(t, ctx, "Clients → New client (web server app)",
		click(`nav a[href$="/clients"]`),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/clients/new"]`)),
		loaded,
		click(`a[href$="/clients/new"]`),
		chromedp.WaitVisible(chromedp.ID("contact_email")),
		loaded,
		chromedp.SendKeys(chromedp.ID("name"), "Cloudaware CMDB API"),
		chromedp.SendKeys(chromedp.ID("description"), "JWT bearer and client credentials access to the CMDB API"),
		chromedp.SendKeys(chromedp.ID("contact_email"), "owner@example.com"),
		click(`input[name=type][value=web]`),
		chromedp.SendKeys(chromedp.ID("redirect_uri"), "http://localhost:1717/OauthRedirect"),
		click(`main form button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`a[aria-current=page][href$="/overview"]`)),
		e2etest.Screenshot(shots, "04-client-overview.png"),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	clientURL := strings.TrimSuffix(loc, "/overview")
	clientID := clientURL[strings.LastIndex(clientURL, "/")+1:]

	steps.Run(t, ctx, "OAuth tab: callback URL, grant types with Enable JWT Bearer Flow, PKCE off",
		click(`.tabs a[href$="/oauth"]`),
		chromedp.WaitVisible(chromedp.ID("redirect_uris")),
		loaded,
		checkbox(`input[name=grant_types][value=authorization_code]`, true),
		checkbox(`input[name=grant_types][value=client_credentials]`, true),
		checkbox(`input[name=grant_types][value="`+jwtBearerGrant+`"]`, true),
		checkbox(`input[name=response_types][value=code]`, true),
		checkbox(`input[name=require_pkce]`, false),
		click(`form[action$="/oauth"] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)),
		e2etest.Screenshot(shots, "05-client-oauth.png"),
	)
	certFile := filepath.Join(t.TempDir(), "cmdb.crt")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e2etest.SelfSignedCert(t, "cloudaware-cmdb", time.Now().Add(20*24*time.Hour))})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	steps.Run(t, ctx, "OAuth tab: upload the X.509 certificate (multipart form)",
		chromedp.SetUploadFiles(chromedp.ID("certificate"), []string{certFile}),
		click(`form[action$="/certificates"] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`.cert .warning`)),
		chromedp.ScrollIntoView(chromedp.ID("certs-h")),
		e2etest.ViewportShot(shots, "05b-client-certificate.png"),
	)
	steps.Run(t, ctx, "OAuth tab: JWT bearer flow with admin approved users, the profile",
		waitText(`#jwt-grant-state`, "enabled"),
		click(`input[name=pre_auth][value=admin_approved]`),
		checkbox(`input[name=allowed_profiles][value=integration]`, true),
		click(`form[action$="/jwt-bearer"] button[type=submit]`),
		// The page already shows a notice (the certificate's): wait for
		// this form's own.
		waitText(`.notice`, "JWT bearer settings saved"),
		chromedp.ScrollIntoView(chromedp.ID("jwt-h")),
		e2etest.ViewportShot(shots, "05c-client-jwt-bearer.png"),
	)
	warn, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.cert .warning`)))
	if err != nil || !strings.Contains(warn, "expires in") {
		t.Errorf("no expiry warning shown: %q %v", warn, err)
	}
	on, err := chromedp.Run(ctx, chromedp.JavascriptAttribute[bool](chromedp.CSS(`input[name=pre_auth][value=admin_approved]`), "checked"))
	if err != nil || !on {
		t.Errorf("admin approved policy not saved (%v)", err)
	}
	steps.Run(t, ctx, "Scopes tab: api and refresh_token",
		click(`.tabs a[href$="/scopes"]`),
		chromedp.WaitVisible(chromedp.CSS(`input[name=scopes][value=api]`)),
		loaded,
		checkbox(`input[name=scopes][value=api]`, true),
		checkbox(`input[name=scopes][value=refresh_token]`, true),
		click(`form[action$="/scopes"] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)),
		e2etest.Screenshot(shots, "06-client-scopes.png"),
	)
	for i, tab := range []string{"endpoints", "metadata"} {
		steps.Run(t, ctx, "tab "+tab,
			chromedp.Click(chromedp.CSS(`.tabs a[href$="/`+tab+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`a[aria-current=page][href$="/`+tab+`"]`)),
			loaded,
			e2etest.Screenshot(shots, "0"+string(rune('7'+i))+"-client-"+tab+".png"),
		)
	}
	steps.Run(t, ctx, "Credentials tab: View secret sends a code",
		click(`.tabs a[href$="/credentials"]`),
		chromedp.WaitVisible(chromedp.ID("send-code")),
		loaded,
		e2etest.Screenshot(shots, "09-client-credentials.png"),
		chromedp.Click(chromedp.ID("send-code")),
		waitText(`.notice`, "6-digit code"),
		chromedp.WaitVisible(chromedp.ID("code")),
	)
	code := e.box.WaitFor(t, codeRE)[1]
	steps.Run(t, ctx, "enter the code",
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Click(chromedp.ID("reveal")),
		chromedp.WaitVisible(chromedp.ID("client-secret")),
		e2etest.Screenshot(shots, "10-client-secret.png"),
	)
	secret, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("client-secret")))
	if err != nil || strings.TrimSpace(secret) == "" {
		t.Fatalf("secret not shown: %q %v", secret, err)
	}
	e.leaks.Add(strings.TrimSpace(secret))
	steps.Run(t, ctx, "narrow screen (390px)",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1)),
		e2etest.Screenshot(shots, "11-narrow-credentials.png"),
		click(`.tabs a[href$="/oauth"]`),
		chromedp.WaitVisible(chromedp.ID("redirect_uris")),
		loaded,
		e2etest.Screenshot(shots, "12-narrow-oauth.png"),
		chromedp.ScrollIntoView(chromedp.ID("af-h")),
		e2etest.ViewportShot(shots, "13-narrow-oauth-signin-settings.png"),
		chromedp.ScrollIntoView(chromedp.ID("jwt-h")),
		e2etest.ViewportShot(shots, "14-narrow-oauth-jwt-bearer.png"),
	)
	// Nothing on a narrow screen is wider than the viewport.
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || wide {
		t.Errorf("the OAuth tab scrolls sideways at 390px (err %v)", err)
	}

	cc := clientcredentials.Config{ClientID: clientID, ClientSecret: strings.TrimSpace(secret),
		TokenURL: e.base + "/w/default/oauth2/token", Scopes: []string{"api"}}
	tok, err := cc.Token(t.Context())
	if err != nil {
		t.Fatalf("client_credentials with the secret shown in the browser: %v", err)
	}
	if tok.AccessToken == "" {
		t.Fatal("no access token")
	}
}

// TestBrowserInitialAccessTokens creates an initial access token in a
// real chromium (docs/security.md R2, console part): the form starts as
// the narrow default policy, a refused pattern is shown next to its
// field, and the token is shown once. Screenshots of the form, the
// refusal, the created token and the list go to LATCHKEY_TEST_ARTIFACTS.
func TestBrowserInitialAccessTokens(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	e := startServer(t)
	e.createSuperAdmin(t, "root", "correct horse battery")
	e.createService(t, "Orders", "https://api.example/orders",
		adminclient.Scope{Name: "orders:read", Description: "Read orders"}, adminclient.Scope{Name: "orders:write", Description: "Change orders"})
	ctx := chromium(t)
	shots := e2etest.ArtifactsDir(t)
	submit := chromedp.CSS(`form[action$="/initial-access-tokens/new"] button[type=submit]`)

	steps.Run(t, ctx, "sign in", e.signIn("root", "correct horse battery"))
	steps.Run(t, ctx, "Initial access tokens → New: the narrow default policy",
		click(`nav a[href$="/initial-access-tokens"]`),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/initial-access-tokens/new"]`)),
		loaded,
		click(`a[href$="/initial-access-tokens/new"]`),
		chromedp.WaitVisible(chromedp.ID("expires_in")),
		loaded,
		e2etest.Screenshot(shots, "01-iat-new-form.png"),
	)
	for sel, want := range map[string]bool{
		`input[name=grant_types][value=client_credentials]`: true, `input[name=grant_types][value=authorization_code]`: true,
		`input[name=grant_types][value=refresh_token]`: true, `input[name=grant_types][value="` + jwtBearerGrant + `"]`: false,
		`input[name=allow_impersonation]`: false, `input[name=scopes][value="orders:read"]`: false,
	} {
		on, err := chromedp.Run(ctx, chromedp.JavascriptAttribute[bool](chromedp.CSS(sel), "checked"))
		if err != nil || on != want {
			t.Errorf("%s: checked %v, want %v (%v)", sel, on, want, err)
		}
	}
	steps.Run(t, ctx, "a wildcard pattern is refused next to its field",
		chromedp.SendKeys(chromedp.ID("description"), "Partner onboarding"),
		checkbox(`input[name=scopes][value="orders:read"]`, true),
		checkbox(`input[name=grant_types][value=client_credentials]`, false),
		chromedp.SendKeys(chromedp.ID("redirect_uri_patterns"), "https://partner.example/*"),
		chromedp.Click(submit),
		chromedp.WaitVisible(chromedp.ID("redirect_uri_patterns-error")),
		chromedp.ScrollIntoView(chromedp.ID("redirect_uri_patterns")),
		e2etest.ViewportShot(shots, "02-iat-refused-pattern.png"),
	)
	steps.Run(t, ctx, "create: the token is shown once",
		chromedp.SetValue(chromedp.ID("redirect_uri_patterns"), "https://partner.example/cb/"),
		chromedp.Click(submit),
		chromedp.WaitVisible(chromedp.ID("iat-token")),
		e2etest.Screenshot(shots, "03-iat-created.png"),
	)
	token, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("iat-token")))
	if err != nil || !strings.HasPrefix(strings.TrimSpace(token), "lki_") {
		t.Fatalf("token not shown: %q %v", token, err)
	}
	e.leaks.Add(strings.TrimSpace(token))
	steps.Run(t, ctx, "the list",
		click(`nav a[href$="/initial-access-tokens"]`),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/delete"]`)),
		loaded,
		e2etest.Screenshot(shots, "04-iat-list.png"),
	)
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil || !strings.Contains(list, "Partner onboarding") || !strings.Contains(list, "orders:read") ||
		strings.Contains(list, strings.TrimSpace(token)) {
		t.Errorf("list: %q %v", list, err)
	}
}
