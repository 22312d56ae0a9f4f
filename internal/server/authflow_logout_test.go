package server

import (
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	lkoidc "github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

const logoutRedirect = "https://app.example.com/bye"

// logoutFixture is a browser of a flow fixture's server; after
// signedInBrowser alice is signed in and idToken is her ID token.
type logoutFixture struct {
	*flowFixture
	idToken string
}

// registerLogoutRedirect registers logoutRedirect for webapp.
func registerLogoutRedirect(t *testing.T, f *flowFixture) {
	t.Helper()
	updateWebapp(t, f, func(c *storage.Client) { c.PostLogoutRedirectURIs = []string{logoutRedirect} })
}

func updateWebapp(t *testing.T, f *flowFixture, edit func(c *storage.Client)) {
	t.Helper()
	_, err := f.r.srv.store.UpdateClient(t.Context(), "default", "webapp", func(c storage.Client) (storage.Client, error) {
		edit(&c)
		return c, nil
	})
	must(t, err)
}

// signedInBrowser gives webapp subjectType and signs alice in with a
// fresh browser on the server of f.
func signedInBrowser(t *testing.T, f *flowFixture, subjectType string) *logoutFixture {
	t.Helper()
	updateWebapp(t, f, func(c *storage.Client) { c.SubjectType = subjectType })
	jar, _ := cookiejar.New(nil)
	fresh := *f
	fresh.browser = &http.Client{Jar: jar, CheckRedirect: f.browser.CheckRedirect}
	return &logoutFixture{flowFixture: &fresh, idToken: fresh.codeTokens(t, "openid").IDToken}
}

// logout sends a logout request with the browser's cookies and nothing
// else: the server cannot tell it from a cross-site navigation.
func (f *logoutFixture) logout(t *testing.T, method string, params url.Values) (*http.Response, string) {
	t.Helper()
	target, form := f.issuer+"/oauth2/logout", params
	if method == http.MethodGet {
		target, form = target+"?"+params.Encode(), nil
	}
	return f.do(t, method, target, form)
}

// signedIn reports whether the browser's session is alive: prompt=none
// succeeds only then (OIDC Core §3.1.2.1).
func (f *logoutFixture) signedIn(t *testing.T) bool {
	t.Helper()
	resp, body := f.do(t, http.MethodGet, f.issuer+"/oauth2/authorize?"+authQuery(func(q url.Values) { q.Set("prompt", "none") }).Encode(), nil)
	expectStatus(t, resp, body, http.StatusSeeOther)
	loc, err := url.Parse(resp.Header.Get("Location"))
	must(t, err)
	switch {
	case loc.Query().Get("code") != "":
		return true
	case loc.Query().Get("error") == "login_required":
		return false
	}
	t.Fatalf("prompt=none answered %s", loc)
	return false
}

// mintIDToken signs an ID token of workspace wsID for client webapp.
func (f *logoutFixture) mintIDToken(t *testing.T, wsID, sub string) string {
	t.Helper()
	signer, err := f.r.srv.keys.Signer(t.Context(), wsID)
	must(t, err)
	now := time.Now()
	tok, err := lkoidc.MintIDToken(signer, lkoidc.IDToken{Issuer: f.r.srv.BaseURL() + "/w/" + wsID, Subject: sub,
		ClientID: "webapp", IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	must(t, err)
	return tok
}

// confirmationPage asks for logout with params and returns the fields of
// the confirmation page's form.
func (f *logoutFixture) confirmationPage(t *testing.T, params url.Values) url.Values {
	t.Helper()
	resp, body := f.logout(t, http.MethodGet, params)
	return confirmationForm(t, resp, body)
}

var hiddenFieldRe = regexp.MustCompile(`<input type="hidden" (?:id="[^"]*" )?name="([^"]+)" value="([^"]*)">`)

// confirmationForm returns the fields of the confirmation page's form,
// failing unless body is that page with the page security headers.
func confirmationForm(t *testing.T, resp *http.Response, body string) url.Values {
	t.Helper()
	expectStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(body, `id="logout-confirm-form"`) || !strings.Contains(body, `id="logout-stay"`) || resp.Header.Get("Location") != "" {
		t.Fatalf("not the logout confirmation page:\n%s", body)
	}
	h := resp.Header
	if h.Get("Content-Security-Policy") != webui.ContentSecurityPolicy || h.Get("Cache-Control") != "no-store" || h.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("confirmation page headers: %v", h)
	}
	form := url.Values{}
	for _, m := range hiddenFieldRe.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	return form
}

// TestLogoutConfirmation: RP-initiated logout ends the session at once
// only for an id_token_hint of the signed-in user (public or pairwise
// sub); anything else is a confirmation page whose POST needs the
// browser's CSRF token (RP-Initiated Logout 1.0 §6, SECURITY.md W8).
func TestLogoutConfirmation(t *testing.T) {
	asked := url.Values{"client_id": {"webapp"}, "post_logout_redirect_uri": {logoutRedirect}, "state": {"st"}}
	withHint := func(hint string) url.Values {
		return url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {logoutRedirect}, "state": {"st"}}
	}
	// confirm shows the confirmation page and posts its form with action.
	confirm := func(t *testing.T, f *logoutFixture, action string, edit func(url.Values)) (*http.Response, string) {
		form := f.confirmationPage(t, asked)
		if form.Get("csrf_token") == "" || form.Get("post_logout_redirect_uri") != logoutRedirect || form.Get("state") != "st" || form.Get("client_id") != "webapp" {
			t.Fatalf("confirmation form fields %v", form)
		}
		form.Set("action", action)
		if edit != nil {
			edit(form)
		}
		return f.logout(t, http.MethodPost, form)
	}
	cases := []struct {
		name        string
		subjectType string
		run         func(t *testing.T, f *logoutFixture) (*http.Response, string)
		status      int
		location    string // for a 303
		page        string // an id the page must hold, "" for a redirect
		signedIn    bool
	}{
		{"cross-site GET without hint", "", func(t *testing.T, f *logoutFixture) (*http.Response, string) {
			return f.logout(t, http.MethodGet, asked)
		}, http.StatusOK, "", `id="logout-confirm-form"`, true},
		{"relying party POST without hint", "", func(t *testing.T, f *logoutFixture) (*http.Response, string) {
			return f.logout(t, http.MethodPost, asked)
		}, http.StatusOK, "", `id="logout-confirm-form"`, true},
		{"confirmation POST without CSRF token", "", func(t *testing.T, f *logoutFixture) (*http.Response, string) {
			return confirm(t, f, "logout", func(form url.Values) { form.Del("csrf_token") })
		}, http.StatusForbidden, "", `id="error"`, true},
		{"confirmation POST with a wrong CSRF token", "", func(t *testing.T, f *logoutFixture) (*http.Response, string) {
			return confirm(t, f, "logout", func(form url.Values) { form.Set("csrf_token", "forged") })
		}, http.StatusForbidden, "", `id="error"`, true},
		{"confirmation POST from another browser", "", func(t *testing.T, f *logoutFixture) (*http.Response, string) {
			form := f.confirmationPage(t, asked)
			form.Set("action", "logout")
			own := f.browser.Jar
			other, _ := cookiejar.New(nil)
			f.browser.Jar = other
			defer func() { f.browser.Jar = own }()
			return f.logout(t, http.MethodPost, form)
		}, http.StatusForbidden, "", `id="error"`, true},
		{"confirmation POST with CSRF token signs out", "", func(t *testing.T, f *logoutFixture) (*http.Response, string) {
			return confirm(t, f, "logout", nil)
		}, http.StatusSeeOther, logoutRedirect + "?state=st", "", false},
		{"stay signed in", "", func(t *testing.T, f *logoutFixture) (*http.Response, string) {
			return confirm(t, f, "stay", nil)
		}, http.StatusOK, "", "You are still signed in.", true},
		{"confirmation POST with an unknown action", "", func(t *testing.T, f *logoutFixture) (*http.Response, string) {
			return confirm(t, f, "maybe", nil)
		}, http.StatusBadRequest, "", `id="error"`, true},
		{"confirmation POST with a foreign redirect", "", func(t *testing.T, f *logoutFixture) (*http.Response, string) {
			return confirm(t, f, "logout", func(form url.Values) { form.Set("post_logout_redirect_uri", "https://evil.example/") })
		}, http.StatusBadRequest, "", `id="error"`, true},
		{"hint of the signed-in user", "", func(t *testing.T, f *logoutFixture) (*http.Response, string) {
			return f.logout(t, http.MethodGet, withHint(f.idToken))
		}, http.StatusSeeOther, logoutRedirect + "?state=st", "", false},
		{"pairwise hint of the signed-in user", lkoidc.SubjectPairwise, func(t *testing.T, f *logoutFixture) (*http.Response, string) {
			return f.logout(t, http.MethodPost, withHint(f.idToken))
		}, http.StatusSeeOther, logoutRedirect + "?state=st", "", false},
		{"hint of another user", "", func(t *testing.T, f *logoutFixture) (*http.Response, string) {
			return f.logout(t, http.MethodGet, withHint(f.mintIDToken(t, "default", "u-bob")))
		}, http.StatusOK, "", `id="logout-confirm-form"`, true},
		{"public sub as hint for a pairwise client", lkoidc.SubjectPairwise, func(t *testing.T, f *logoutFixture) (*http.Response, string) {
			return f.logout(t, http.MethodGet, withHint(f.mintIDToken(t, "default", "u-alice")))
		}, http.StatusOK, "", `id="logout-confirm-form"`, true},
		{"hint of another workspace's user", "", func(t *testing.T, f *logoutFixture) (*http.Response, string) {
			return f.logout(t, http.MethodGet, withHint(f.mintIDToken(t, "other", "u-alice")))
		}, http.StatusBadRequest, "", "id_token_hint is not a valid ID token of this issuer", true},
	}
	signInStores(t, func(t *testing.T, server *flowFixture) {
		registerLogoutRedirect(t, server)
		_, err := server.r.srv.svc.CreateWorkspace(t.Context(), service.WorkspaceInput{ID: "other", Name: "Other"})
		must(t, err)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				f := signedInBrowser(t, server, tc.subjectType)
				resp, body := tc.run(t, f)
				expectStatus(t, resp, body, tc.status)
				if got := resp.Header.Get("Location"); got != tc.location {
					t.Fatalf("Location %q, want %q", got, tc.location)
				}
				if tc.page != "" && !strings.Contains(body, tc.page) {
					t.Fatalf("page lacks %s:\n%s", tc.page, body)
				}
				if tc.page == `id="logout-confirm-form"` && !strings.Contains(body, "Sign out of ") {
					t.Fatalf("confirmation page title:\n%s", body)
				}
				if strings.Contains(body, "<App>") {
					t.Fatalf("client name not escaped:\n%s", body)
				}
				if got := f.signedIn(t); got != tc.signedIn {
					t.Fatalf("signed in after the request: %v, want %v", got, tc.signedIn)
				}
			})
		}
	})
}

// TestLogoutWithoutSession: with no session there is nothing to confirm:
// the browser goes to the registered post_logout_redirect_uri with state,
// or sees the signed-out page.
func TestLogoutWithoutSession(t *testing.T) {
	server := newFlowFixture(t)
	registerLogoutRedirect(t, server)
	f := &logoutFixture{flowFixture: server}
	for _, params := range []url.Values{
		{"client_id": {"webapp"}, "post_logout_redirect_uri": {logoutRedirect}, "state": {"st"}},
		{"id_token_hint": {f.mintIDToken(t, "default", "u-bob")}, "post_logout_redirect_uri": {logoutRedirect}, "state": {"st"}},
	} {
		resp, body := f.logout(t, http.MethodGet, params)
		expectStatus(t, resp, body, http.StatusSeeOther)
		if got := resp.Header.Get("Location"); got != logoutRedirect+"?state=st" {
			t.Fatalf("Location %q", got)
		}
	}
	resp, body := f.logout(t, http.MethodGet, url.Values{})
	expectStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(body, "You have been signed out.") {
		t.Fatalf("signed-out page:\n%s", body)
	}
}

// TestLogoutConfirmationLocalized: the confirmation page follows
// ui_locales (RP-Initiated Logout §2) and keeps it for the next page.
func TestLogoutConfirmationLocalized(t *testing.T) {
	f := signedInBrowser(t, newFlowFixture(t), "")
	resp, body := f.logout(t, http.MethodGet, url.Values{"ui_locales": {"fr-CA en"}})
	form := confirmationForm(t, resp, body)
	if !strings.Contains(body, "Se déconnecter de ") {
		t.Fatalf("confirmation page not in French:\n%s", body)
	}
	form.Set("action", "stay")
	resp, body = f.logout(t, http.MethodPost, form)
	expectStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(body, "Vous êtes toujours connecté.") || !strings.Contains(body, `lang="fr"`) {
		t.Fatalf("stay page not in French:\n%s", body)
	}
}
