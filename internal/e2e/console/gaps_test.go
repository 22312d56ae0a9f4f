package console

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// passwordLinkRE finds the set-password link of the user's e-mail.
var passwordLinkRE = regexp.MustCompile(`(http://[^\s]+/w/default/password/set\?token=lkpw_[A-Za-z0-9_-]+)`)

// TestBrowserUserPasswordsSessionsConsents walks a directory user's page
// in a real chromium: the administrator sets the user's password; the
// user signs in through the authorization endpoint and consents; the
// user's page then lists the session and the consent, and revokes both;
// a set-password link is e-mailed; expiring the password (with a new
// link) makes the old password fail at the sign-in page. On SQLite and
// on PostgreSQL. Screenshots go to LATCHKEY_TEST_ARTIFACTS/<test>.
func TestBrowserUserPasswordsSessionsConsents(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	t.Run("sqlite", func(t *testing.T) { testUserPasswordsSessionsConsents(t, startServer(t)) })
	t.Run("postgres", func(t *testing.T) {
		testUserPasswordsSessionsConsents(t, startServerOn(t, true, e2etest.PostgresSchemaDSN(t, "consolee2e")))
	})
}

func testUserPasswordsSessionsConsents(t *testing.T, e *env) {
	e.createSuperAdmin(t, "root", "correct horse battery")
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("callback")) }))
	t.Cleanup(cb.Close)
	ctx0 := t.Context()
	pkce := true
	if _, err := e.admin.Clients("default").Create(ctx0, adminclient.OAuthClientRequest{
		ClientID: adminclient.Ptr("portal"), Name: adminclient.Ptr("Portal"), ApplicationType: adminclient.Ptr("web"),
		GrantTypes: &[]string{"authorization_code"}, ResponseTypes: &[]string{"code"}, RedirectURIs: &[]string{cb.URL + "/cb"},
		Scopes: &[]string{}, TokenEndpointAuthMethod: adminclient.Ptr("client_secret_basic"),
		ClientFlow: adminclient.ClientFlow{RequirePKCE: &pkce},
	}); err != nil {
		t.Fatal(err)
	}
	u, err := e.admin.Users("default").Create(ctx0, adminclient.UserRequest{
		Username: adminclient.Ptr("alice"), Email: adminclient.Ptr("alice@example.com"), Active: adminclient.Ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := chromium(t)
	shots := e2etest.ArtifactsDir(t)
	userPage := e.base + "/console/w/default/users/" + u.ID
	const pw = "alice's first password"
	e.leaks.Add(pw)

	steps.Run(t, ctx, "sign in", e.signIn("root", "correct horse battery"))
	steps.Run(t, ctx, "the user's page: set a password",
		chromedp.Navigate(userPage),
		chromedp.WaitVisible(chromedp.ID("pw-h")),
		e2etest.Screenshot(shots, "01-user-page.png"),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.SendKeys(chromedp.ID("password_again"), pw),
		chromedp.Click(chromedp.ID("set-password")),
		waitText(`.notice`, "Password set"),
	)

	conf := &oauth2.Config{ClientID: "portal", RedirectURL: cb.URL + "/cb", Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: e.base + "/w/default/oauth2/authorize"}}
	authURL := conf.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
		oauth2.SetAuthURLParam("prompt", "consent"))
	steps.Run(t, ctx, "the user signs in and consents",
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("consent-form")),
		chromedp.Click(chromedp.ID("consent-allow")),
		waitText("body", "callback"),
	)
	steps.Run(t, ctx, "the user's page lists the session and the consent",
		chromedp.Navigate(userPage),
		chromedp.WaitVisible(chromedp.ID("revoke-all-sessions")),
		waitText(`section[aria-labelledby=consents-h]`, "portal"),
		chromedp.ScrollIntoView(chromedp.ID("sessions-h")),
		e2etest.Screenshot(shots, "02-sessions-consents.png"),
	)
	steps.Run(t, ctx, "revoke the consent",
		click(`form[action$="/consents/revoke"] button`),
		waitText(`.notice`, "Revoked the consent"),
		waitText(`section[aria-labelledby=consents-h]`, "No consents."),
	)
	steps.Run(t, ctx, "sign the user out everywhere",
		chromedp.Click(chromedp.ID("revoke-all-sessions")),
		waitText(`.notice`, "signed out everywhere"),
		waitText(`section[aria-labelledby=sessions-h]`, "No active sessions."),
		e2etest.Screenshot(shots, "03-revoked.png"),
	)
	steps.Run(t, ctx, "send a set-password link",
		chromedp.Click(chromedp.ID("send-password-link")),
		waitText(`.notice`, "set-password link was sent to alice@example.com"),
	)
	link := e.box.WaitFor(t, passwordLinkRE)[1]
	e.leaks.Add(link[strings.Index(link, "lkpw_"):])
	steps.Run(t, ctx, "expire the password, with a new link",
		checkbox(`form[action$="/password-expire"] input[name=confirm]`, true),
		checkbox(`form[action$="/password-expire"] input[name=send_link]`, true),
		chromedp.Click(chromedp.ID("expire-password")),
		waitText(`.notice`, "The password expired"),
		e2etest.Screenshot(shots, "04-password-expired.png"),
	)
	if l2 := e.box.WaitFor(t, passwordLinkRE)[1]; l2 == link {
		t.Error("expiring with a link sent no new link")
	} else {
		e.leaks.Add(l2[strings.Index(l2, "lkpw_"):])
	}
	steps.Run(t, ctx, "the old password no longer signs in",
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("error")),
	)
}

// TestBrowserConsoleGaps walks the other console gaps of a guide in a
// real chromium, on a server without a mail server: the view-secret code,
// read in the outbox opened in the same tab, still works back on the
// Credentials tab; outbox messages wrap inside their box on a narrow screen; a
// trusted issuer's allowed clients are ticked from a list; the client's
// auth-method field links to the settings page when the workspace limits
// the methods; the workspace settings hold the key rotation period, the
// maximum assertion lifetime and strict assertion audience; a workspace
// is disabled and enabled again; a retired signing key is removed; and
// every delete confirms what it deleted. Screenshots go to
// LATCHKEY_TEST_ARTIFACTS/<test>.
func TestBrowserConsoleGaps(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	e := startServerMail(t, false)
	e.createSuperAdmin(t, "root", "correct horse battery")
	ctx0 := t.Context()
	created, err := e.admin.Clients("default").Create(ctx0, adminclient.OAuthClientRequest{
		ClientID: adminclient.Ptr("cmdb"), Name: adminclient.Ptr("CMDB"), ContactEmail: adminclient.Ptr("owner@example.com"),
		GrantTypes: &[]string{"client_credentials"}, TokenEndpointAuthMethod: adminclient.Ptr("client_secret_basic")})
	if err != nil {
		t.Fatal(err)
	}
	e.leaks.Add(created.ClientSecret)
	if _, err := e.admin.Workspaces().Create(ctx0, adminclient.WorkspaceRequest{ID: adminclient.Ptr("staging"), Name: adminclient.Ptr("Staging")}); err != nil {
		t.Fatal(err)
	}
	ctx := chromium(t)
	shots := e2etest.ArtifactsDir(t)
	ws := e.base + "/console/w/default"

	steps.Run(t, ctx, "sign in", e.signIn("root", "correct horse battery"))
	steps.Run(t, ctx, "Credentials: View secret sends a code",
		chromedp.Navigate(ws+"/clients/cmdb/credentials"),
		chromedp.Click(chromedp.ID("send-code")),
		waitText(`.notice`, "6-digit code"),
	)
	steps.Run(t, ctx, "open the outbox in the same tab and read the code",
		click(`header a[href$="/outbox"]`),
		waitText("main", "verification code is"),
		e2etest.Screenshot(shots, "01-outbox.png"),
	)
	outbox, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`verification code is (\d{6})`).FindStringSubmatch(outbox)
	if m == nil {
		t.Fatalf("no code in the outbox: %q", outbox)
	}
	steps.Run(t, ctx, "back on Credentials, the code still works",
		chromedp.Navigate(ws+"/clients/cmdb/credentials"),
		chromedp.WaitVisible(chromedp.ID("code")),
		loaded,
		chromedp.SendKeys(chromedp.ID("code"), m[1]),
		chromedp.Click(chromedp.ID("reveal")),
		chromedp.WaitVisible(chromedp.ID("client-secret")),
	)
	if s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("client-secret"))); strings.TrimSpace(s) != created.ClientSecret {
		t.Error("the code entered after visiting the outbox did not reveal the secret")
	}

	// A long unbreakable line (a set-password link) in the outbox.
	u, err := e.admin.Users("default").Create(ctx0, adminclient.UserRequest{
		Username: adminclient.Ptr("bob"), Email: adminclient.Ptr("bob@example.com"), Active: adminclient.Ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.Do(ctx0, http.MethodPost, "/workspaces/default/users/"+u.ID+"/password-link", nil, nil); err != nil {
		t.Fatal(err)
	}
	steps.Run(t, ctx, "outbox on a narrow screen",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1)),
		chromedp.Navigate(e.base+"/console/outbox"),
		waitText("main", "password/set?token="),
		e2etest.Screenshot(shots, "02-outbox-narrow.png"),
	)
	if text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main"))); err == nil {
		if m := regexp.MustCompile(`token=(lkpw_[A-Za-z0-9_-]+)`).FindStringSubmatch(text); m != nil {
			e.leaks.Add(m[1])
		}
	}
	wraps, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Array.prototype.every.call(document.querySelectorAll("main pre"), function (p) {
	  return p.scrollWidth <= p.clientWidth + 1 && p.getBoundingClientRect().right <= window.innerWidth + 1;
	}) && document.documentElement.scrollWidth <= window.innerWidth + 1`))
	if err != nil || !wraps {
		t.Errorf("outbox messages overflow their box at 390px (%v)", err)
	}
	steps.Run(t, ctx, "wide screen again", chromedp.EmulateViewport(1280, 900, chromedp.EmulateScale(1)))

	steps.Run(t, ctx, "trusted issuer: allowed clients from a list",
		chromedp.Navigate(ws+"/trusted-issuers/new"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=allowed_clients][value=cmdb]`)),
		chromedp.SendKeys(chromedp.ID("id"), "cmic"),
		chromedp.SendKeys(chromedp.ID("name"), "CMiC"),
		chromedp.SendKeys(chromedp.ID("issuer"), "https://idp.example"),
		chromedp.SendKeys(chromedp.ID("jwks_uri"), "https://idp.example/jwks"),
		chromedp.SendKeys(chromedp.ID("claim"), "sub"),
		checkbox(`input[name=allowed_clients][value=cmdb]`, true),
		e2etest.Screenshot(shots, "03-issuer-clients.png"),
		click(`form[action$="/trusted-issuers/new"] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/trusted-issuers/cmic/delete"]`)),
	)
	ti, err := e.admin.TrustedIssuers("default").Get(ctx0, "cmic")
	if err != nil || !slices.Equal(ti.AllowedClients, []string{"cmdb"}) {
		t.Errorf("allowed clients %v (%v), want [cmdb]", ti.AllowedClients, err)
	}
	steps.Run(t, ctx, "delete the trusted issuer: the confirmation names it",
		checkbox(`form[action$="/cmic/delete"] input[name=confirm]`, true),
		click(`form[action$="/cmic/delete"] button`),
		waitText(`.notice`, "Deleted the trusted issuer “CMiC (cmic)”"),
		e2etest.Screenshot(shots, "04-issuer-deleted.png"),
	)

	steps.Run(t, ctx, "settings: limit the methods, key rotation, assertions",
		chromedp.Navigate(ws+"/settings"),
		chromedp.WaitVisible(chromedp.ID("key_rotation_period_hours")),
		checkbox(`input[name=allowed_auth_methods][value=client_secret_basic]`, true),
		checkbox(`input[name=allowed_auth_methods][value=private_key_jwt]`, true),
		setField("key_rotation_period_hours", "2160"),
		setField("max_assertion_lifetime", "120"),
		checkbox(`input[name=strict_assertion_audience]`, true),
		click(`form[action$="/settings"] button[type=submit]`),
		waitText(`.notice`, "Settings saved"),
		e2etest.Screenshot(shots, "05-settings.png"),
	)
	w, err := e.admin.Workspaces().Get(ctx0, "default")
	if err != nil || w.Settings.KeyRotationPeriod != 2160*3600 || w.Settings.MaxAssertionLifetime != 120 || !w.Settings.StrictAssertionAudience ||
		len(w.Settings.AllowedAuthMethods) != 2 {
		t.Errorf("stored settings %+v (%v)", w.Settings, err)
	}
	steps.Run(t, ctx, "the client's auth-method field links to the settings",
		chromedp.Navigate(ws+"/clients/cmdb/oauth"),
		chromedp.WaitVisible(chromedp.ID("auth-methods-link")),
		chromedp.ScrollIntoView(chromedp.ID("token_endpoint_auth_method")),
		e2etest.ViewportShot(shots, "06-auth-method-link.png"),
		chromedp.Click(chromedp.ID("auth-methods-link")),
		chromedp.WaitVisible(chromedp.CSS(`nav a[aria-current=page][href$="/settings"]`)),
	)

	steps.Run(t, ctx, "disable and enable a workspace",
		chromedp.Navigate(e.base+"/console/w/staging/settings"),
		checkbox(`form[action$="/state/disable"] input[name=confirm]`, true),
		chromedp.Click(chromedp.ID("workspace-state")),
		waitText(`.notice`, "The workspace is disabled"),
		e2etest.Screenshot(shots, "07-workspace-disabled.png"),
	)
	if w, err := e.admin.Workspaces().Get(ctx0, "staging"); err != nil || w.Enabled {
		t.Errorf("staging enabled %v (%v) after Disable", w.Enabled, err)
	}
	steps.Run(t, ctx, "enable it again",
		chromedp.Click(chromedp.ID("workspace-state")),
		waitText(`.notice`, "The workspace is enabled"),
	)
	if w, err := e.admin.Workspaces().Get(ctx0, "staging"); err != nil || !w.Enabled {
		t.Errorf("staging enabled %v (%v) after Enable", w.Enabled, err)
	}

	steps.Run(t, ctx, "keys: rotate, then remove the retired key",
		chromedp.Navigate(ws+"/keys"),
		click(`form[action$="/keys/rotate"] button`),
		waitText("main table", "retired"),
	)
	keys, err := e.admin.ListKeys(ctx0, "default")
	if err != nil {
		t.Fatal(err)
	}
	var retired string
	for _, k := range keys {
		if k.State == "retired" {
			retired = k.KID
		}
	}
	if retired == "" {
		t.Fatalf("no retired key after a rotation: %+v", keys)
	}
	sel := `form[action$="/keys/` + retired + `/delete"]`
	steps.Run(t, ctx, "remove the retired key",
		checkbox(sel+` input[name=confirm]`, true),
		chromedp.Click(chromedp.CSS(sel+` button`)),
		waitText(`.notice`, "Deleted the signing key “"+retired+"”"),
		e2etest.Screenshot(shots, "08-key-removed.png"),
	)
	keys, _ = e.admin.ListKeys(ctx0, "default")
	for _, k := range keys {
		if k.KID == retired {
			t.Errorf("key %s still listed after removal", retired)
		}
	}

	steps.Run(t, ctx, "delete the client: the confirmation names it",
		chromedp.Navigate(ws+"/clients/cmdb/overview"),
		checkbox(`form[action$="/action/delete"] input[name=confirm]`, true),
		click(`form[action$="/action/delete"] button`),
		waitText(`.notice`, "Deleted the client “CMDB (cmdb)”"),
		e2etest.Screenshot(shots, "09-client-deleted.png"),
	)
}
