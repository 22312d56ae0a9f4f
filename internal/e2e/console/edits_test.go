package console

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// beforeUnloadAsks reports whether the page's beforeunload handler asks
// before leaving (it cancels the event, which makes the browser ask).
var beforeUnloadAsks = chromedp.Evaluate[bool](`(function () {
  var e = new Event("beforeunload", {cancelable: true});
  window.dispatchEvent(e);
  return e.defaultPrevented;
})()`)

// TestBrowserClientCreationAndNoEditLost covers the client page in a real
// chromium:
//
//   - New client: the client ID is chosen and the secret is shown once,
//     at creation; a reload shows it no more;
//   - one control per setting: the JWT bearer grant is switched only by
//     its grant type checkbox (no second "Enable JWT Bearer Flow");
//   - the application type select shows and changes the stored type;
//   - no edit is ever lost: with unsaved edits in the OAuth form
//     ("trusted" and the access token lifetime), saving the JWT bearer
//     section keeps those edits on the page (and the server left those
//     fields alone); leaving the page asks first; saving the OAuth form
//     then stores them, and a reload and the admin API show both
//     sections' values.
//
// Screenshots go to LATCHKEY_TEST_ARTIFACTS/<test>.
func TestBrowserClientCreationAndNoEditLost(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	e := startServer(t)
	e.createSuperAdmin(t, "root", "correct horse battery")
	if _, err := e.admin.Profiles("default").Create(t.Context(), adminclient.ProfileRequest{
		ID: adminclient.Ptr("integration"), Name: adminclient.Ptr("Integration")}); err != nil {
		t.Fatal(err)
	}
	ctx := chromium(t)
	shots := e2etest.ArtifactsDir(t)
	const id = "erp-connector"

	steps.Run(t, ctx, "sign in", e.signIn("root", "correct horse battery"))
	steps.Run(t, ctx, "New client with a chosen client ID",
		chromedp.Navigate(e.base+"/console/w/default/clients/new"),
		chromedp.WaitVisible(chromedp.ID("client_id")),
		chromedp.SendKeys(chromedp.ID("client_id"), id),
		chromedp.SendKeys(chromedp.ID("name"), "ERP connector"),
		chromedp.SendKeys(chromedp.ID("contact_email"), "owner@example.com"),
		click(`input[name=type][value=web]`),
		chromedp.SendKeys(chromedp.ID("redirect_uri"), "https://erp.example/cb"),
		e2etest.Screenshot(shots, "01-new-client.png"),
		click(`main form button[type=submit]`),
		chromedp.WaitVisible(chromedp.ID("client-secret")),
		e2etest.Screenshot(shots, "02-created-secret-once.png"),
	)
	secret, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("client-secret")))
	if err != nil || len(strings.TrimSpace(secret)) < 40 {
		t.Fatalf("secret at creation: %q %v", secret, err)
	}
	e.leaks.Add(strings.TrimSpace(secret))
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasSuffix(loc, "/clients/"+id+"/overview") {
		t.Errorf("address after creation %q, want the overview of %s", loc, id)
	}
	steps.Run(t, ctx, "a reload does not show the secret again",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`a[aria-current=page][href$="/overview"]`)),
	)
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#client-secret").length`)); n != 0 {
		t.Error("the secret is shown again after a reload")
	}
	if got, _ := e.admin.Clients("default").Get(t.Context(), id); got.ApplicationType != "web" {
		t.Errorf("stored application type %q, want web", got.ApplicationType)
	}

	steps.Run(t, ctx, "OAuth tab",
		click(`.tabs a[href$="/oauth"]`),
		chromedp.WaitVisible(chromedp.ID("jwt-h")),
		loaded,
		e2etest.Screenshot(shots, "03-oauth.png"),
	)
	// One control per setting: the grant type is the only switch of the
	// JWT bearer flow; no control name appears in two settings forms.
	dups, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(function () {
	  var seen = {}, dups = [];
	  document.querySelectorAll("main form[method=post]:not([data-action])").forEach(function (f, i) {
	    Array.prototype.forEach.call(f.elements, function (el) {
	      if (!el.name || el.name === "csrf_token" || el.type === "submit") { return; }
	      var k = el.name + "=" + (el.type === "checkbox" || el.type === "radio" ? el.value : "");
	      if (seen[k] !== undefined && seen[k] !== i) { dups.push(k); }
	      seen[k] = i;
	    });
	  });
	  return dups;
	})()`))
	if err != nil || len(dups) != 0 {
		t.Errorf("controls in two forms of the OAuth tab: %v %v", dups, err)
	}
	n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('input[name=enable_jwt_bearer], input[value="`+jwtBearerGrant+`"]').length`))
	if n != 1 {
		t.Errorf("%d controls switch the JWT bearer grant, want 1", n)
	}

	steps.Run(t, ctx, "turn the JWT bearer grant on with its grant type",
		checkbox(`input[name=grant_types][value="`+jwtBearerGrant+`"]`, true),
		click(`form[action$="/oauth"] button[type=submit]`),
		waitText(`.notice`, "Saved"),
		waitText(`#jwt-grant-state`, "enabled"),
	)
	if asks, _ := chromedp.Run(ctx, beforeUnloadAsks); asks {
		t.Error("leaving a page without edits asks")
	}

	steps.Run(t, ctx, "edit two sections, save only the JWT bearer one",
		checkbox(`input[name=trusted]`, true),
		chromedp.SetValue(chromedp.ID("access_token_ttl"), "1200"),
		click(`input[name=pre_auth][value=admin_approved]`),
		checkbox(`input[name=allowed_profiles][value=integration]`, true),
		chromedp.SendKeys(chromedp.ID("access_token_ttl"), ""), // an input event, as typing gives
	)
	if asks, _ := chromedp.Run(ctx, beforeUnloadAsks); !asks {
		t.Error("leaving the page with unsaved edits does not ask")
	}
	// A real navigation stops at the browser's "leave site?" dialog.
	dialogs := make(chan string, 4)
	if err := chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			select {
			case dialogs <- string(d.Type):
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`setTimeout(function () { location.href = "/console/w/default/clients"; }, 0); true`)); err != nil {
		t.Fatal(err)
	}
	select {
	case typ := <-dialogs:
		if typ != string(page.DialogTypeBeforeunload) {
			t.Errorf("dialog %q, want beforeunload", typ)
		}
		if _, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false}); err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Error("leaving the page with unsaved edits did not ask")
	}
	steps.Run(t, ctx, "still on the OAuth tab, then save the JWT bearer section",
		chromedp.WaitVisible(chromedp.ID("jwt-h")),
		click(`form[action$="/jwt-bearer"] button[type=submit]`),
		waitText(`.notice`, "JWT bearer settings saved"),
		chromedp.WaitVisible(chromedp.ID("unsaved-kept")),
		e2etest.Screenshot(shots, "04-jwt-saved-oauth-edits-kept.png"),
	)
	c, err := e.admin.Clients("default").Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessTokenTTL == 1200 || c.Trusted != nil && *c.Trusted {
		t.Errorf("saving the JWT bearer section saved the OAuth form's fields too: ttl %d trusted %v", c.AccessTokenTTL, c.Trusted)
	}
	if !slices.Contains(c.GrantTypes, jwtBearerGrant) {
		t.Errorf("saving the JWT bearer section changed the grant types: %v", c.GrantTypes)
	}
	checkState(t, ctx, "after the JWT bearer save", map[string]bool{
		`input[name=trusted]`: true, `input[name=allowed_profiles][value=integration]`: true,
		`input[name=pre_auth][value=admin_approved]`: true, `input[name=grant_types][value="` + jwtBearerGrant + `"]`: true,
	})
	if ttl, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("access_token_ttl"))); ttl != "1200" {
		t.Errorf("the unsaved lifetime was lost: %q", ttl)
	}
	if asks, _ := chromedp.Run(ctx, beforeUnloadAsks); !asks {
		t.Error("the kept edits are not protected by the leave-page question")
	}
	steps.Run(t, ctx, "save the OAuth form, reload",
		click(`form[action$="/oauth"] button[type=submit]`),
		waitText(`.notice`, "Saved"),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("jwt-h")),
		e2etest.Screenshot(shots, "05-after-reload.png"),
	)
	checkState(t, ctx, "after the reload", map[string]bool{
		`input[name=trusted]`: true, `input[name=allowed_profiles][value=integration]`: true,
		`input[name=pre_auth][value=admin_approved]`: true, `input[name=grant_types][value="` + jwtBearerGrant + `"]`: true,
	})
	if ttl, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("access_token_ttl"))); ttl != "1200" {
		t.Errorf("lifetime after reload %q, want 1200", ttl)
	}
	c, err = e.admin.Clients("default").Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessTokenTTL != 1200 || c.Trusted == nil || !*c.Trusted || !slices.Contains(c.GrantTypes, jwtBearerGrant) {
		t.Errorf("stored client: ttl %d trusted %v grants %v", c.AccessTokenTTL, c.Trusted, c.GrantTypes)
	}
	jb, err := e.admin.ClientJWTBearer(t.Context(), "default", id)
	if err != nil || !slices.Equal(jb.AllowedProfiles, []string{"integration"}) {
		t.Errorf("stored JWT bearer settings: %+v %v", jb, err)
	}

	steps.Run(t, ctx, "a refused save keeps its own edits",
		chromedp.SetValue(chromedp.ID("redirect_uris"), "ftp://bad.example/cb"),
		checkbox(`input[name=trusted]`, false),
		click(`form[action$="/oauth"] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`main .error`)),
		e2etest.Screenshot(shots, "06-refused-save-keeps-edits.png"),
	)
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("redirect_uris"))); !strings.Contains(v, "ftp://bad.example/cb") {
		t.Errorf("a refused save lost its input: %q", v)
	}

	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("application_type"))); v != "web" {
		t.Errorf("application type select shows %q, want web", v)
	}
	steps.Run(t, ctx, "application type select: make it a service (machine to machine)",
		setField("application_type", "service"),
		setField("redirect_uris", ""),
		checkbox(`input[name=grant_types][value=authorization_code]`, false),
		checkbox(`input[name=grant_types][value="`+jwtBearerGrant+`"]`, false),
		checkbox(`input[name=grant_types][value=client_credentials]`, true),
		checkbox(`input[name=response_types][value=code]`, false),
		click(`form[action$="/oauth"] button[type=submit]`),
		waitText(`.notice`, "Saved"),
		e2etest.Screenshot(shots, "07-application-type-service.png"),
	)
	if got, _ := e.admin.Clients("default").Get(t.Context(), id); got.ApplicationType != "service" {
		t.Errorf("stored application type %q after the edit, want service", got.ApplicationType)
	}
}

// setField sets the value of the field with id (a select's option, or
// the text of a text field), with the input and change events a person's
// edit fires.
func setField(id, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(function () {
		  var s = document.getElementById(`+strconv.Quote(id)+`);
		  s.value = `+strconv.Quote(value)+`;
		  s.dispatchEvent(new Event("input", {bubbles: true}));
		  s.dispatchEvent(new Event("change", {bubbles: true}));
		  return s.value === `+strconv.Quote(value)+`;
		})()`)(ctx, tg)
		return err
	})
}

// checkState fails t for each checkbox or radio whose state differs.
func checkState(t *testing.T, ctx context.Context, when string, want map[string]bool) {
	t.Helper()
	for sel, on := range want {
		got, err := chromedp.Run(ctx, chromedp.JavascriptAttribute[bool](chromedp.CSS(sel), "checked"))
		if err != nil || got != on {
			t.Errorf("%s: %s checked %v, want %v (%v)", when, sel, got, on, err)
		}
	}
}

// TestBrowserServicePageKeepsEdits: the service page has three settings
// forms (the service, its access policy, its claims). An unsaved edit of
// the service form survives adding a claim row and saving the claims
// (both reload the page), is not saved by them, and is saved by its own
// Save; a reload then shows both.
func TestBrowserServicePageKeepsEdits(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	e := startServer(t)
	e.createSuperAdmin(t, "root", "correct horse battery")
	e.createService(t, "Orders", "https://api.example/orders", adminclient.Scope{Name: "orders:read", Description: "Read orders"})
	svcs, err := e.admin.Services("default").List(t.Context(), adminclient.ListOptions{})
	if err != nil || len(svcs.Items) != 1 {
		t.Fatalf("services: %v %v", svcs, err)
	}
	sid := svcs.Items[0].ID
	ctx := chromium(t)
	shots := e2etest.ArtifactsDir(t)

	steps.Run(t, ctx, "sign in", e.signIn("root", "correct horse battery"))
	steps.Run(t, ctx, "edit the description, then add a claim row",
		chromedp.Navigate(e.base+"/console/w/default/services/"+sid),
		chromedp.WaitVisible(chromedp.ID("claims-h")),
		chromedp.SendKeys(chromedp.ID("description"), "Orders API, version 2"),
		click(`button[value=claim-add]`),
		chromedp.WaitVisible(chromedp.ID("claim-0-name")),
		waitText(`#unsaved-kept`, "Service Orders"),
		chromedp.WaitVisible(chromedp.ID("unsaved-kept")),
	)
	steps.Run(t, ctx, "fill the claim and save the claims",
		chromedp.SendKeys(chromedp.ID("claim-0-name"), "tier"),
		chromedp.SendKeys(chromedp.ID("claim-0-expression"), `"gold"`),
		checkbox(`input[name=claim_target_0][value=access_token]`, true),
		click(`button[value=claim-save]:not(.sr-only)`),
		waitText(`.notice`, "Claims saved"),
		chromedp.WaitVisible(chromedp.ID("unsaved-kept")),
		e2etest.Screenshot(shots, "01-claims-saved-description-kept.png"),
	)
	if d, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("description"))); d != "Orders API, version 2" {
		t.Errorf("the unsaved description was lost: %q", d)
	}
	if s, _ := e.admin.Services("default").Get(t.Context(), sid); s.Description == "Orders API, version 2" {
		t.Error("saving the claims saved the service form too")
	}
	steps.Run(t, ctx, "save the service, reload",
		chromedp.Click(chromedp.CSS(`form[action$="/services/`+sid+`"] button[type=submit]`)),
		chromedp.WaitNotPresent(chromedp.ID("unsaved-kept")),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("claim-0-name")),
		e2etest.Screenshot(shots, "02-after-reload.png"),
	)
	if d, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("description"))); d != "Orders API, version 2" {
		t.Errorf("description after reload %q", d)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("claim-0-name"))); n != "tier" {
		t.Errorf("claim after reload %q", n)
	}
}
