package webui

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
)

func TestCSRF(t *testing.T) {
	r := httptest.NewRequest("POST", "/", nil)
	r.AddCookie(&httptestCookie)
	tok := CSRFToken(httptestCookie.Value, "login\x00ws")
	if !CheckCSRF(r, tok, "login\x00ws") {
		t.Fatal("own token refused")
	}
	if CheckCSRF(r, tok, "consent\x00ws") || CheckCSRF(r, "", "login\x00ws") {
		t.Fatal("token accepted for another purpose or empty (K1)")
	}
	if CheckCSRF(httptest.NewRequest("POST", "/", nil), tok, "login\x00ws") {
		t.Fatal("token accepted without the cookie")
	}
	if !BoundTo(r, Hash(httptestCookie.Value)) || BoundTo(r, Hash("other")) {
		t.Fatal("browser binding wrong (E15)")
	}
}

var httptestCookie = httpCookie(BrowserCookie, "secret-value")

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
