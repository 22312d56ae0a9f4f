package oidc

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// TestCIBAChromium drives the approval in chromium: the user signs in to
// the account page, sees the pending request with the client, the scopes
// in words and the binding message, and allows it; the client's poll then
// gets tokens. Screenshots: ciba-account.png, ciba-done.png.
func TestCIBAChromium(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	e := newEnv(t, envOptions{})
	c := e.cibaClient(t, "callcentre", "poll", "")
	id := e.startCIBA(t, c, "binding_message", "Transfer 42 EUR")
	bctx := e2etest.Chromium(t, append(chromedp.DefaultExecAllocatorOptions[:], chromedp.WindowSize(1024, 900))...)
	shots := e2etest.ArtifactsDir(t)
	browserSteps.Run(t, bctx, "sign in to the account page",
		chromedp.Navigate(e.issuer+"/account"),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		chromedp.SendKeys(chromedp.ID("username"), e.user.Username),
		chromedp.SendKeys(chromedp.ID("password"), e.user.Password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	browserSteps.Run(t, bctx, "pending request on the account page",
		chromedp.WaitVisible(chromedp.ID("ciba-requests")),
		chromedp.WaitVisible(chromedp.CSS(`li[data-scope="profile"]`)),
		e2etest.Screenshot(shots, "ciba-account.png"),
	)
	client, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(".ciba-client")))
	binding, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(".ciba-binding-message")))
	if client != "Call centre" || strings.TrimSpace(binding) != "Transfer 42 EUR" {
		t.Fatalf("account page shows client %q and binding message %q", client, binding)
	}
	browserSteps.Run(t, bctx, "approval",
		chromedp.Click(chromedp.CSS(".ciba-approve")),
		chromedp.WaitVisible(chromedp.ID("message")),
		chromedp.WaitVisible(chromedp.ID("ciba-none")),
		e2etest.Screenshot(shots, "ciba-done.png"),
	)
	r := e.cibaPoll(t, c, id)
	if r.status != http.StatusOK {
		t.Fatalf("poll after approval: %d %s", r.status, r.raw)
	}
	tok := requireTokens(t, r)
	e.secrets.AddToken(tok.AccessToken)
	e.secrets.Add(tok.RefreshToken)
	e.secrets.AddToken(tok.IDToken)
	t.Logf("screenshots in %s", shots)
}
