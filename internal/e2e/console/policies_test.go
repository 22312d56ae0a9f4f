package console

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// TestBrowserPolicyWhatIf edits a user policy in a real chromium and
// watches the what-if tool's answer change: a policy from the email
// domain template is attached on the client's Policies tab, the what-if
// for a user of another domain answers deny; an expression that does not
// type-check is refused next to its rule; the corrected rule is saved and
// the same what-if answers allow. Screenshots of the Policies page, the
// refused rule and both answers go to LATCHKEY_TEST_ARTIFACTS.
func TestBrowserPolicyWhatIf(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	e := startServer(t)
	e.createSuperAdmin(t, "root", "correct horse battery")
	u, err := e.admin.Users("default").Create(t.Context(), adminclient.UserRequest{Username: adminclient.Ptr("bob"),
		Email: adminclient.Ptr("bob@corp.example"), Active: adminclient.Ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.admin.Clients("default").Create(t.Context(), adminclient.OAuthClientRequest{Name: adminclient.Ptr("Portal"),
		Type: adminclient.Ptr("confidential")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := chromium(t)
	shots := e2etest.ArtifactsDir(t)
	save := chromedp.CSS(`form[aria-labelledby=editor-h] > button[value=save]:not(.sr-only)`)
	tab := e.base + "/console/w/default/clients/" + c.ClientID + "/policies"
	whatIf := chromedp.Steps(
		chromedp.Navigate(tab),
		chromedp.WaitVisible(chromedp.ID("whatif-user")),
		chromedp.SendKeys(chromedp.ID("whatif-user"), u.ID),
		chromedp.SendKeys(chromedp.ID("whatif-scopes"), "openid"),
		chromedp.Click(chromedp.CSS(`form[aria-labelledby=whatif-h] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("whatif-decision")),
	)

	steps.Run(t, ctx, "sign in", e.signIn("root", "correct horse battery"))
	steps.Run(t, ctx, "Policies → New policy from the email domain template",
		chromedp.Click(chromedp.CSS(`nav a[href$="/policies"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/policies/new"]`)),
		chromedp.Click(chromedp.CSS(`a[href$="/policies/new"]`)),
		chromedp.WaitVisible(chromedp.ID("param-email-domain-domain")),
		chromedp.SendKeys(chromedp.ID("id"), "staff"),
		chromedp.SendKeys(chromedp.ID("name"), "Staff only"),
		chromedp.SendKeys(chromedp.ID("param-email-domain-domain"), "partner.example"),
		chromedp.Click(save),
		waitText(".notice", "Policy Staff only created."),
		chromedp.Click(chromedp.CSS(`nav a[href$="/policies"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/policies/staff"]`)),
		e2etest.Screenshot(shots, "01-policies.png"),
	)
	steps.Run(t, ctx, "client → Policies tab: attach the user policy",
		chromedp.Navigate(tab),
		chromedp.WaitVisible(chromedp.ID("user_policy_id")),
		chromedp.SetValue(chromedp.ID("user_policy_id"), "staff"),
		chromedp.Click(chromedp.CSS(`form[aria-labelledby=attach-h] button[type=submit]`)),
		waitText(".notice", "Saved."),
	)
	steps.Run(t, ctx, "what-if for bob@corp.example: deny",
		whatIf,
		waitText("#whatif-decision", "deny"),
		waitText("#whatif-answer-h ~ p", "sign in with an email address of an allowed domain"),
		e2etest.Screenshot(shots, "02-what-if-deny.png"),
	)
	steps.Run(t, ctx, "edit the rule: a type error is refused next to it",
		chromedp.Navigate(e.base+"/console/w/default/policies/staff"),
		chromedp.WaitVisible(chromedp.ID("condition-0")),
		chromedp.SetValue(chromedp.ID("condition-0"), `!user.emial.endsWith("@corp.example")`),
		chromedp.Click(save),
		chromedp.WaitVisible(chromedp.ID("rule-0-error")),
		waitText("#rule-0-error", "Rule 1, line 1, column"),
		e2etest.Screenshot(shots, "03-rule-refused.png"),
	)
	steps.Run(t, ctx, "correct the rule and save version 2",
		chromedp.SetValue(chromedp.ID("condition-0"), `!user.email.endsWith("@corp.example")`),
		chromedp.SetValue(chromedp.ID("message-0"), "sign in with your corp.example account"),
		chromedp.Click(save),
		waitText(".notice", "saved as version 2"),
	)
	steps.Run(t, ctx, "the same what-if: allow",
		whatIf,
		waitText("#whatif-decision", "allow"),
		waitText("#whatif-access-token", `"sub": "`+u.ID+`"`),
		e2etest.Screenshot(shots, "04-what-if-allow.png"),
	)
}
