package oidc

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

const loginPageHTML = `<!doctype html><html><body>
<form method="post" action="/w/ws/login" id="login-form">
  <label for="username">Username</label><input id="username" name="username" type="text" autocomplete="username">
  <input id="password" name="password" type="password">
  <input type="hidden" name="request_id" value="req-1">
  <input type="hidden" name="csrf_token" value="csrf-1">
  <input type="checkbox" name="remember" value="yes">
  <input type="checkbox" name="agree" value="on" checked>
  <select name="lang"><option value="en">English</option><option value="de" selected>Deutsch</option></select>
  <textarea name="note">  hi  </textarea>
  <input type="text" name="off" value="x" disabled>
  <button id="login-submit" name="action" value="login">Sign in</button>
  <button type="button" id="noop">Nothing</button>
</form>
<form id="consent-form" method="POST" action="https://other.example/w/ws/consent#frag">
  <button type="submit" id="consent-allow" name="action" value="allow">Allow</button>
  <input type="submit" id="consent-deny" name="action" value="deny">
</form>
<p id="error">  Incorrect   username or <b>password</b>. </p>
<ul><li class="scope x" data-scope="openid">Sign you in</li><li class="scope" data-scope="email">Email</li></ul>
</body></html>`

func TestBrowserParsesDocumentedForms(t *testing.T) {
	base, _ := url.Parse("http://127.0.0.1:1/w/ws/login?request_id=req-1")
	p := &Page{URL: base, Status: 200, Body: []byte(loginPageHTML)}
	f, err := p.Form("login-form")
	if err != nil {
		t.Fatal(err)
	}
	if f.Method != http.MethodPost || f.Action.String() != "http://127.0.0.1:1/w/ws/login" {
		t.Errorf("form = %s %s", f.Method, f.Action)
	}
	if err := f.Set("username", "ada"); err != nil {
		t.Fatal(err)
	}
	if err := f.Set("password", "pw"); err != nil {
		t.Fatal(err)
	}
	if err := f.Set("missing", "x"); err == nil {
		t.Error("Set of an undocumented field succeeded; tests must fail loudly on renamed fields")
	}
	v, err := f.Values("login-submit")
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"username": {"ada"}, "password": {"pw"}, "request_id": {"req-1"}, "csrf_token": {"csrf-1"},
		"agree": {"on"}, "lang": {"de"}, "note": {"hi"}, "action": {"login"}}
	if v.Encode() != want.Encode() {
		t.Errorf("values = %s\nwant     %s", v.Encode(), want.Encode())
	}
	if _, err := f.Values("noop"); err == nil {
		t.Error(`type="button" counted as a submit button`)
	}
	c, err := p.Form("consent-form")
	if err != nil {
		t.Fatal(err)
	}
	if c.Action.String() != "https://other.example/w/ws/consent" {
		t.Errorf("consent action = %s (fragment must be dropped)", c.Action)
	}
	for id, want := range map[string]string{"consent-allow": "allow", "consent-deny": "deny"} {
		v, err := c.Values(id)
		if err != nil || v.Get("action") != want {
			t.Errorf("%s: action=%q err=%v", id, v.Get("action"), err)
		}
	}
	if txt, ok := p.TextByID("error"); !ok || txt != "Incorrect username or password." {
		t.Errorf("error text = %q, %v", txt, ok)
	}
	scopes := p.Elements(func(n *html.Node) bool { return HasClass(n, "scope") })
	if len(scopes) != 2 || Attr(scopes[1], "data-scope") != "email" {
		t.Errorf("scopes = %d", len(scopes))
	}
	if _, err := p.Form("nope"); err == nil {
		t.Error("missing form found")
	}
}

func TestBrowserRedirectsAndCookies(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "__Host-s", Value: "v", Path: "/", Secure: true, HttpOnly: true})
		http.Redirect(w, r, "/next", http.StatusSeeOther)
	})
	mux.HandleFunc("/next", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("__Host-s")
		if err != nil {
			http.Error(w, "no cookie", http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, "https://rp.example.test/cb?code="+c.Value, http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/307", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/next", http.StatusTemporaryRedirect)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := NewBrowser(nil)
	p, err := b.Get(t.Context(), srv.URL+"/start")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != http.StatusSeeOther || !p.IsRedirect() {
		t.Fatalf("status %d: the browser must not follow redirects by itself", p.Status)
	}
	isRP := func(u *url.URL) bool { return u.Host == "rp.example.test" }
	end, err := b.FollowRedirects(t.Context(), p, isRP)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := end.Location()
	if loc.Query().Get("code") != "v" {
		t.Errorf("final Location = %s: the Secure __Host- cookie was not sent back over loopback http", loc)
	}
	loop, _ := b.Get(t.Context(), srv.URL+"/loop")
	if _, err := b.FollowRedirects(t.Context(), loop, nil); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("redirect loop: err = %v", err)
	}
	p307, _ := b.Get(t.Context(), srv.URL+"/307")
	if _, err := b.Follow(t.Context(), p307); err == nil {
		t.Error("a 307 was followed; the flow must never depend on one (SECURITY.md E11)")
	}
}

// FuzzForms feeds arbitrary markup to the form parser: it must never
// panic, and every parsed form must have an absolute action.
func FuzzForms(f *testing.F) {
	f.Add(loginPageHTML)
	f.Add(`<form action="http://[::1"><input name=a></form>`)
	f.Add(`<form><select name=s></select><button></button><input type=radio name=r checked value=1>`)
	f.Add(`<table><form id=x><tr><td><input name=in></form></table>`)
	base, _ := url.Parse("http://127.0.0.1/w/ws/login")
	f.Fuzz(func(t *testing.T, markup string) {
		p := &Page{URL: base, Body: []byte(markup)}
		forms, err := p.Forms()
		if err != nil {
			return
		}
		for _, fm := range forms {
			if !fm.Action.IsAbs() {
				t.Fatalf("relative action %s", fm.Action)
			}
			_, _ = fm.Values("")
		}
	})
}
