package console_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestWorkspaceBranding sets the branding on the settings page and checks
// that the workspace's sign-in page shows the display name (escaped,
// SECURITY.md K10) and the logo, and that its theme stylesheet carries the
// colours; values that could inject CSS are refused (K10).
func TestWorkspaceBranding(t *testing.T) {
	e := startServer(t)
	b := e.browser()
	tok := b.setupAdmin(t)
	const name = `Acme <script>alert(1)</script>`
	form := url.Values{
		"csrf_token": {tok}, "name": {"Default"}, "signing_alg": {"ES256"}, "access_token_ttl": {"3600"},
		"branding_display_name": {name}, "branding_logo_uri": {"https://cdn.example/logo.svg"},
		"branding_primary_color": {"#0A5"}, "branding_background_color": {"#fafafa"},
	}
	resp, body := b.post("/console/w/default/settings", form)
	wantStatus(t, "save branding", resp, 200)
	for _, want := range []string{`value="https://cdn.example/logo.svg"`, `value="#00aa55"`, `value="#fafafa"`,
		`value="Acme &lt;script&gt;alert(1)&lt;/script&gt;"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("settings page lacks %s:\n%s", want, body)
		}
	}

	resp, page := b.get("/w/default/login")
	wantStatus(t, "sign-in page", resp, 200)
	if strings.Contains(page, "<script>alert(1)") {
		t.Fatal("K10: the display name is rendered unescaped")
	}
	for _, want := range []string{"Acme &lt;script&gt;alert(1)&lt;/script&gt;", `src="https://cdn.example/logo.svg"`,
		`href="` + e.base + `/w/default/assets/theme.css"`} {
		if !strings.Contains(page, want) {
			t.Errorf("sign-in page lacks %s:\n%s", want, page)
		}
	}
	resp, css := b.get("/w/default/assets/theme.css")
	wantStatus(t, "theme", resp, 200)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("theme Content-Type %q", ct)
	}
	for _, want := range []string{"--lk-primary: #00aa55;", "--lk-background: #fafafa;"} {
		if !strings.Contains(css, want) {
			t.Errorf("theme lacks %s: %s", want, css)
		}
	}

	// K10: CSS injection through a colour is refused with the field named,
	// and the stored theme is unchanged.
	form.Set("branding_primary_color", "red;}body{display:none")
	form.Set("branding_background_color", "url(https://evil.example/x.png)")
	resp, body = b.post("/console/w/default/settings", form)
	wantStatus(t, "bad colours", resp, 400)
	for _, f := range []string{"settings.branding.primary_color", "settings.branding.background_color"} {
		if !strings.Contains(body, f) {
			t.Errorf("error page lacks %s", f)
		}
	}
	if _, css = b.get("/w/default/assets/theme.css"); strings.Contains(css, "display:none") || strings.Contains(css, "url(") ||
		!strings.Contains(css, "#00aa55") {
		t.Fatalf("theme after a refused update: %s", css)
	}

	// Emptying the section restores the defaults.
	for _, k := range []string{"branding_display_name", "branding_logo_uri", "branding_primary_color", "branding_background_color"} {
		form.Set(k, "")
	}
	resp, _ = b.post("/console/w/default/settings", form)
	wantStatus(t, "clear branding", resp, 200)
	if _, page = b.get("/w/default/login"); strings.Contains(page, "Acme") || strings.Contains(page, "cdn.example") {
		t.Fatalf("cleared branding still shown:\n%s", page)
	}
}
