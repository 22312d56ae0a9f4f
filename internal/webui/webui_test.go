package webui

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
)

func TestCSRF(t *testing.T) {
	var c Cookies // zero value: the https form
	r := httptest.NewRequest("POST", "/", nil)
	r.AddCookie(&httptestCookie)
	tok := CSRFToken(httptestCookie.Value, "login\x00ws")
	if !c.CheckCSRF(r, tok, "login\x00ws") {
		t.Fatal("own token refused")
	}
	if c.CheckCSRF(r, tok, "consent\x00ws") || c.CheckCSRF(r, "", "login\x00ws") {
		t.Fatal("token accepted for another purpose or empty (K1)")
	}
	if c.CheckCSRF(httptest.NewRequest("POST", "/", nil), tok, "login\x00ws") {
		t.Fatal("token accepted without the cookie")
	}
	if !c.BoundTo(r, Hash(httptestCookie.Value)) || c.BoundTo(r, Hash("other")) {
		t.Fatal("browser binding wrong (E15)")
	}
	if CookiesFor("http://127.0.0.1:8080").CheckCSRF(r, tok, "login\x00ws") {
		t.Fatal("a plain-http server read the __Host- cookie")
	}
}

var httptestCookie = httpCookie("__Host-"+BrowserCookie, "secret-value")

// TestCookiesFor: one decision from the base URL (docs/security.md K6):
// __Host- + Secure for https, plain names without Secure for http, and
// HttpOnly, Path=/, no Domain and the given SameSite always.
func TestCookiesFor(t *testing.T) {
	for _, tc := range []struct {
		base, name string
		secure     bool
	}{
		{"https://auth.example.com", "__Host-lk_b", true},
		{"https://127.0.0.1:8443/prefix", "__Host-lk_b", true},
		{"HTTPS://auth.example.com", "__Host-lk_b", true},
		{"http://127.0.0.1:8080", "lk_b", false},
		{"http://localhost:8080", "lk_b", false},
		{"http://[::1]:8080", "lk_b", false},
		{"http://localhost", "lk_b", false},
		{"", "__Host-lk_b", true},
		{"::not a url", "__Host-lk_b", true},
	} {
		c := CookiesFor(tc.base)
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		secret := c.BrowserSecret(rec, r)
		got := rec.Result().Cookies()
		if len(got) != 1 {
			t.Fatalf("%q: %d cookies set, want 1", tc.base, len(got))
		}
		ck := got[0]
		if ck.Name != tc.name || ck.Secure != tc.secure || c.Secure() != tc.secure || !ck.HttpOnly || ck.Path != "/" ||
			ck.Domain != "" || ck.SameSite != http.SameSiteLaxMode || ck.Value != secret {
			t.Errorf("%q: cookie %+v, want name %s, Secure=%v, HttpOnly, Path=/, no Domain, SameSite=Lax", tc.base, ck, tc.name, tc.secure)
		}
		if again := c.ExistingBrowserSecret(r); again != secret {
			t.Errorf("%q: the secret set in this request reads back as %q", tc.base, again)
		}
	}
}

func TestThemeCSSRejectsInjection(t *testing.T) {
	css := ThemeCSS(&storage.Branding{PrimaryColor: "#123abc", BackgroundColor: "red;} body{background:url(//evil)"})
	if css != ":root { --lk-primary: #123abc; }\n" {
		t.Fatalf("theme %q", css)
	}
}

// TestCatalogue: every message id used by the templates exists in English,
// and other languages only translate existing ids.
func TestCatalogue(t *testing.T) {
	raw, err := assets.ReadFile("assets/pages.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\.T "([a-z_]+)"`).FindAllStringSubmatch(string(raw), -1) {
		if !Has(m[1]) {
			t.Errorf("template uses unknown message %q", m[1])
		}
	}
	for lang, msgs := range catalogue {
		for id := range msgs {
			if !Has(id) {
				t.Errorf("%s has message %q that English lacks", lang, id)
			}
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept-Language", "de-CH, fr;q=0.8")
	if l := ChooseLanguage(nil, r); l.Lang != "fr" {
		t.Fatalf("Accept-Language: %s", l.Lang)
	}
	if l := ChooseLanguage([]string{"xx", "en-GB"}, r); l.Lang != "en" {
		t.Fatalf("ui_locales: %s", l.Lang)
	}
}

func httpCookie(name, value string) http.Cookie { return http.Cookie{Name: name, Value: value} }
