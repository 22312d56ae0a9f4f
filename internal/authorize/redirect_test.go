package authorize

import (
	"net/url"
	"testing"
)

// TestMatchRedirectURI is SECURITY.md E1 and E2.
func TestMatchRedirectURI(t *testing.T) {
	registered := []string{"https://app.example/cb", "http://127.0.0.1/native", "http://[::1]/v6", "http://localhost/dev"}
	cases := map[string]bool{
		"https://app.example/cb":               true,
		"https://app.example/cb/x":             false,
		"https://app.example/CB":               false,
		"https://APP.example/cb":               false,
		"https://app.example/cb/":              false,
		"https://app.example/cb?x=1":           false,
		"https://app.example/cb#f":             false,
		"http://app.example/cb":                false,
		"https://app.example:444/cb":           false,
		"https://app.example.evil.com/cb":      false,
		"https://app.example@evil.com/cb":      false,
		`https://app.example\@evil.com/cb`:     false,
		"https://app.example/cb/..;/x":         false,
		"https://app.example/%63b":             false,
		"http://127.0.0.1:51234/native":        true,
		"http://127.0.0.1/native":              true,
		"http://127.0.0.1:51234/native?x=1":    false,
		"http://127.0.0.1:51234/native/":       false,
		"http://127.0.0.1:51234/%6eative":      false,
		"http://user@127.0.0.1:51234/native":   false,
		"http://127.0.0.2:51234/native":        false,
		"http://[::1]:8080/v6":                 true,
		"http://localhost:51234/dev":           false,
		"http://localhost/dev":                 true,
		"":                                     false,
		"http://127.0.0.1:51234/native#frag":   false,
		"http://127.0.0.1:51234@evil.com/nati": false,
	}
	for uri, want := range cases {
		if got := MatchRedirectURI(registered, uri); got != want {
			t.Errorf("MatchRedirectURI(%q) = %v, want %v", uri, got, want)
		}
	}
}

// FuzzMatchRedirectURI: whatever the input, a match is either the exact
// registered string or that string with a port added on a loopback IP.
func FuzzMatchRedirectURI(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:1/cb", "https://app.example/cb", "http://127.0.0.1:1@x/cb", "http://[::1]:9/cb"} {
		f.Add(s)
	}
	registered := []string{"https://app.example/cb", "http://127.0.0.1/cb", "http://[::1]/cb"}
	f.Fuzz(func(t *testing.T, uri string) {
		if !MatchRedirectURI(registered, uri) {
			return
		}
		for _, r := range registered {
			if uri == r {
				return
			}
		}
		u, err := url.Parse(uri)
		if err != nil || uri != "http://"+u.Host+"/cb" || !isLoopbackHTTP(u) {
			t.Fatalf("unexpected match %q", uri)
		}
	})
}
