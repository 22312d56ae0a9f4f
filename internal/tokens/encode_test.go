package tokens

import (
	"bytes"
	"testing"
	"time"
)

// TestEncodeFastPathMatchesEncodingJSON: the reflection-free encoder
// writes exactly the bytes encoding/json writes for the same claims, and
// content it cannot write plainly (escapes, non-ASCII, floats among the
// Extra claims) goes to encoding/json, so every token keeps its wire form.
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
		"extra claims":      {func(a *AccessToken) { a.Extra = map[string]any{"tenant": "t1"} }, true},
		"mapped claim kinds": {func(a *AccessToken) {
			a.Extra = map[string]any{"s": "x", "perms": []any{"A", int64(-3), uint64(7), 5, true, nil},
				"m": map[string]any{"z": false, "a": map[string]any{}, "l": []any{}}, "n": nil,
				"nl": []any(nil), "nm": map[string]any(nil), "b": "", "ab": "1"}
		}, true},
		"extra float":        {func(a *AccessToken) { a.Extra = map[string]any{"f": 1.5} }, false},
		"extra nested float": {func(a *AccessToken) { a.Extra = map[string]any{"l": []any{"x", 1e21}} }, false},
		"extra html":         {func(a *AccessToken) { a.Extra = map[string]any{"h": "<a&b>"} }, false},
		"extra html key":     {func(a *AccessToken) { a.Extra = map[string]any{"a>b": "x"} }, false},
		"extra quote in key": {func(a *AccessToken) { a.Extra = map[string]any{`a"b`: "x"} }, false},
		"extra non-ASCII":    {func(a *AccessToken) { a.Extra = map[string]any{"t": "jérôme"} }, false},
		"extra other type":   {func(a *AccessToken) { a.Extra = map[string]any{"t": []string{"x"}} }, false},
		"extra deep nesting": {func(a *AccessToken) { a.Extra = map[string]any{"d": nested(40)} }, false},
		"extra many claims":  {func(a *AccessToken) { a.Extra = manyClaims(20) }, true},
		"negative time":      {func(a *AccessToken) { a.IssuedAt = time.Unix(-5, 0); a.ExpiresAt = time.Unix(-1, 0) }, true},
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

func nested(depth int) any {
	var v any = "leaf"
	for range depth {
		v = []any{v}
	}
	return v
}

func manyClaims(n int) map[string]any {
	m := make(map[string]any, n)
	for i := range n {
		m[string(rune('z'-i))] = int64(i)
	}
	return m
}

// TestEncodeCyclicExtraFails: a map holding itself is refused by
// encoding/json, not followed forever by the fast path.
func TestEncodeCyclicExtraFails(t *testing.T) {
	m := map[string]any{}
	m["self"] = m
	iat := time.Unix(1, 0)
	tok := AccessToken{Issuer: "i", Subject: "s", ClientID: "c", JTI: "j", Audience: []string{"a"},
		IssuedAt: iat, ExpiresAt: iat.Add(time.Hour), Extra: map[string]any{"m": m}}
	var buf bytes.Buffer
	if tok.appendPlain(&buf) || buf.Len() != 0 {
		t.Fatalf("fast path wrote %q", buf.String())
	}
	if err := tok.encode(&buf); err == nil {
		t.Fatal("encode of a cyclic claim succeeded")
	}
}

// FuzzEncodeFastPath: for any strings, as registered claims and as Extra
// claim names and values, encode writes what encoding/json writes.
func FuzzEncodeFastPath(f *testing.F) {
	f.Add("https://id.example.com/w/acme", "svc", "aud", "a b", "jti")
	f.Add("i", "<&>", "a\u2028", "\"", "\\")
	f.Fuzz(func(t *testing.T, iss, sub, aud, scope, jti string) {
		tok := AccessToken{
			Issuer: iss, Subject: sub, ClientID: sub, Scope: scope, JTI: jti,
			Audience: []string{aud, aud + "2"}, IssuedAt: time.Unix(1, 0), ExpiresAt: time.Unix(2, 0),
			Extra: map[string]any{scope: sub, "l": []any{aud, int64(len(jti)), map[string]any{jti: iss}}},
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
