package ciba

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestBindingMessage(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"", true},
		{"W4SCT", true},
		{"Überweisung 12,50 €", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("é", 64), true},
		{strings.Repeat("a", 65), false},
		{"a\nb", false},
		{"a\tb", false},
		{"\u202eevil", false}, // format character (bidi override)
		{"   ", false},
		{"\xff", false},
	} {
		got, err := bindingMessage(tc.in)
		if (err == nil) != tc.ok || (err == nil && got != tc.in) {
			t.Errorf("bindingMessage(%q) = %q, %v; want ok %v", tc.in, got, err, tc.ok)
		}
	}
}

func TestRequestedExpiry(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", DefaultLifetime, true},
		{"1", time.Second, true},
		{"900", MaxLifetime, true},
		{"901", MaxLifetime, true},
		{"99999999999999999999", MaxLifetime, true},
		{"abc", 0, false},
		{"0", 0, false},
		{"-5", 0, false},
		{"+5", 0, false},
		{" 5", 0, false},
		{"5s", 0, false},
		{"999999999999999999999", 0, false},
	} {
		got, err := requestedExpiry(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("requestedExpiry(%q) = %v, %v; want %v ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestToken68(t *testing.T) {
	for in, ok := range map[string]bool{
		"abc": true, "a-b_c.d~e+f/g==": true, "": false, "==": false, "a b": false, "a\"b": false, "a=b": false,
	} {
		if token68(in) != ok {
			t.Errorf("token68(%q) != %v", in, ok)
		}
	}
}

// FuzzParams: the parameter checks never panic, and what they accept
// keeps their promises (bounded, printable, in range).
func FuzzParams(f *testing.F) {
	for _, s := range []string{"", "W4SCT", "900", "a\nb", "\u202e", "1e3", "abc=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if msg, err := bindingMessage(s); err == nil && (utf8.RuneCountInString(msg) > maxBindingMessageLength || strings.ContainsAny(msg, "\r\n\t")) {
			t.Fatalf("accepted binding_message %q", msg)
		}
		if d, err := requestedExpiry(s); err == nil && (d <= 0 || d > MaxLifetime) {
			t.Fatalf("accepted requested_expiry %q as %v", s, d)
		}
		if token68(s) && strings.ContainsAny(s, " \"\r\n") {
			t.Fatalf("accepted bearer token %q", s)
		}
	})
}
