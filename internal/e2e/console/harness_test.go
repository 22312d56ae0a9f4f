package console

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// steps gives each step of a scripted browser test 30 seconds (the tests
// run in parallel on shared machines); a failure shows the text of the
// page's <main>.
var steps = e2etest.Steps{Timeout: 30 * time.Second, Page: chromedp.Text(chromedp.CSS("main"))}

// env is one running server under test.
type env struct {
	base       string // e.g. http://127.0.0.1:41234
	adminToken string // the admin API's bearer token, also the console's bootstrap token
	admin      *adminclient.Client
	box        *e2etest.Mailbox // every message the server sent
	leaks      *e2etest.SecretList
}

// startServer starts an in-process server on SQLite in t.TempDir() that
// mails through a fresh Mailbox. At the end of the test the server is
// stopped and its log searched for every secret in leaks (SECURITY.md Q6).
func startServer(t *testing.T) *env {
	t.Helper()
	return startServerMail(t, true)
}

// startServerMail is startServer; without smtp the server has no mail
// server and keeps every message in its outbox only (e.box receives
// nothing).
func startServerMail(t *testing.T, smtp bool) *env {
	t.Helper()
	return startServerOn(t, smtp, "")
}

// startServerOn is startServerMail on the storage of dsn ("" = SQLite).
func startServerOn(t *testing.T, smtp bool, dsn string) *env {
	t.Helper()
	e := &env{adminToken: "e2e-console-admin-" + e2etest.RandomToken(32), box: e2etest.StartMailbox(t), leaks: &e2etest.SecretList{}}
	e.leaks.Add(e.adminToken)
	logs := &e2etest.SyncBuffer{}
	var mailEnv map[string]string
	if smtp {
		mailEnv = e.box.Env()
	}
	cfg := e2etest.LoadConfig(t, e2etest.Config{DataDir: t.TempDir(), DSN: dsn, AdminToken: e.adminToken, Env: mailEnv})
	srv := e2etest.StartServer(t, cfg, time.Now, logs)
	t.Cleanup(func() {
		srv.Stop(t)
		e.leaks.CheckLog(t, "server", logs.String())
	})
	e.base = srv.BaseURL
	e.admin = adminclient.New(e.base, e.adminToken)
	return e
}

// createSuperAdmin creates the console user username, a super admin,
// through the admin API.
func (e *env) createSuperAdmin(t *testing.T, username, password string) {
	t.Helper()
	e.leaks.Add(password)
	if _, err := e.admin.CreateConsoleUser(t.Context(), adminclient.ConsoleUserCreate{
		Username: username, Password: password, Role: "super_admin"}); err != nil {
		t.Fatalf("create console user %s: %v", username, err)
	}
}

// signIn signs in on the sign-in page and waits for the workspace
// navigation.
func (e *env) signIn(username, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(e.base+"/console/signin"),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/console/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav a[href$="/clients"]`)),
	)
}

// createService creates a service of the default workspace through the
// admin API.
func (e *env) createService(t *testing.T, name, identifier string, scopes ...adminclient.Scope) {
	t.Helper()
	if _, err := e.admin.Services("default").Create(t.Context(), adminclient.ServiceRequest{
		Name: adminclient.Ptr(name), Identifier: adminclient.Ptr(identifier), Scopes: &scopes}); err != nil {
		t.Fatalf("create service %s: %v", name, err)
	}
}

// chromium starts a headless Debian chromium for the test.
func chromium(t *testing.T) context.Context {
	t.Helper()
	return e2etest.Chromium(t, chromedp.Headless, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1280, 900))
}

// waitText waits until the element's text contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for {
			if got, err := chromedp.Text(chromedp.CSS(sel))(ctx, tg); err == nil && strings.Contains(got, want) {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// loaded waits until the current document has finished loading, so that
// the nodes a step then queries belong to the page that stays.
var loaded = chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
	for {
		if done, err := chromedp.Evaluate[bool](`document.readyState === "complete"`)(ctx, tg); err == nil && done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
})

// checkbox clicks the box when its state differs from want, as a person
// would (keyboard and mouse both toggle it the same way).
func checkbox(sel string, want bool) chromedp.Action[chromedp.Void] {
	return retryStale(func(ctx context.Context, tg *chromedp.Target) error {
		for {
			on, err := chromedp.JavascriptAttribute[bool](chromedp.CSS(sel), "checked")(ctx, tg)
			if err != nil || on == want {
				return err
			}
			// A click while the page still moves (layout, scrolling) can
			// miss the box: click again until it shows the state.
			if _, err := chromedp.Click(chromedp.CSS(sel))(ctx, tg); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// click clicks the element sel names, as chromedp.Click does.
func click(sel string) chromedp.Action[chromedp.Void] {
	return retryStale(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Click(chromedp.CSS(sel))(ctx, tg)
		return err
	})
}

// retryStale runs fn again while it fails because the node it found
// belonged to a document the browser was replacing (a page still loading
// after a click): nothing was clicked then, so a retry is safe.
func retryStale(fn func(ctx context.Context, tg *chromedp.Target) error) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for {
			err := fn(ctx, tg)
			if err == nil || !strings.Contains(err.Error(), "Could not find node with given id") {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}
