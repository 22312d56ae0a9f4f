package tokens

import (
	"bytes"
	"testing"
	"time"
)

// TestEncodeFastPathMatchesEncodingJSON: the reflection-free encoder
// writes exactly the bytes encoding/json writes for the same claims, and
// content it cannot write plainly (escapes, non-ASCII, Extra claims) goes
// to encoding/json, so every token keeps its wire form.
func TestEncodeFastPathMatchesEncodingJSON(t *testing.T) {
	iat := time.Unix(1767268800, 0)
	base := AccessToken{
		Issuer: "https://id.example.com/w/acme", Subject: "svc", ClientID: "svc",
		Scope: "orders:read orders:write", JTI: "q2mJ0m3m8bX6m1dWvQ7p9A",
		Audience: []string{"https://api.example.com"}, IssuedAt: iat, ExpiresAt: iat.Add(time.Hour),
	}
	cases := map[string]struct {
		edit func(*AccessToken)
		fast bool
	}{
		"one audience":      {func(*AccessToken) {}, true},
		"two audiences":     {func(a *AccessToken) { a.Audience = []string{"a", "b"} }, true},
		"no scope":          {func(a *AccessToken) { a.Scope = "" }, true},
		"html characters":   {func(a *AccessToken) { a.Subject = "<a&b>" }, true},
		"quote":             {func(a *AccessToken) { a.Subject = `a"b` }, false},
		"backslash":         {func(a *AccessToken) { a.Scope = `a\b` }, false},
		"control character": {func(a *AccessToken) { a.ClientID = "a\nb" }, false},
		"non-ASCII":         {func(a *AccessToken) { a.Subject = "jérôme" }, false},
		"line separator":    {func(a *AccessToken) { a.Audience = []string{"x\u2028y"} }, false},
		"invalid UTF-8":     {func(a *AccessToken) { a.JTI = "a\xffb" }, false},
		"extra claims":      {func(a *AccessToken) { a.Extra = map[string]any{"tenant": "t1"} }, false},
		"negative time":     {func(a *AccessToken) { a.IssuedAt = time.Unix(-5, 0); a.ExpiresAt = time.Unix(-1, 0) }, true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tok := base
			c.edit(&tok)
			var fast, want bytes.Buffer
			if got := tok.appendPlain(&fast); got != c.fast {
				t.Fatalf("fast path taken = %v, want %v", got, c.fast)
			}
			if err := tok.encodeJSON(&want); err != nil {
				t.Fatal(err)
			}
			if c.fast && fast.String() != want.String() {
				t.Fatalf("fast path wrote\n%s\nencoding/json writes\n%s", fast.String(), want.String())
			}
			var enc bytes.Buffer
			if err := tok.encode(&enc); err != nil {
				t.Fatal(err)
			}
			if enc.String() != want.String() {
				t.Fatalf("encode wrote\n%s\nwant\n%s", enc.String(), want.String())
			}
		})
	}
}

// FuzzEncodeFastPath: for any strings, encode writes what encoding/json
// writes.
func FuzzEncodeFastPath(f *testing.F) {
	f.Add("https://id.example.com/w/acme", "svc", "aud", "a b", "jti")
	f.Add("i", "<&>", "a\u2028", "\"", "\\")
	f.Fuzz(func(t *testing.T, iss, sub, aud, scope, jti string) {
		tok := AccessToken{
			Issuer: iss, Subject: sub, ClientID: sub, Scope: scope, JTI: jti,
			Audience: []string{aud, aud + "2"}, IssuedAt: time.Unix(1, 0), ExpiresAt: time.Unix(2, 0),
		}
		var got, want bytes.Buffer
		if err := tok.encode(&got); err != nil {
			t.Fatal(err)
		}
		if err := tok.encodeJSON(&want); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("encode wrote\n%s\nencoding/json writes\n%s", got.String(), want.String())
		}
	})
}
