package device

import (
	"strings"
	"testing"
)

func TestNormalizeUserCode(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"BCDF-GHJK", "BCDFGHJK", true},
		{"bcdf-ghjk", "BCDFGHJK", true},
		{" bcdf ghjk ", "BCDFGHJK", true},
		{"BCDFGHJK", "BCDFGHJK", true},
		{"BCDF-GHJ", "", false},       // too short
		{"BCDF-GHJKL", "", false},     // too long
		{"BCDF-GHJA", "", false},      // vowel: not in the alphabet
		{"BCDF-GHJ0", "", false},      // digit
		{"BCDF-GHJ\u212a", "", false}, // Kelvin sign folds to K in Unicode case folding
		{strings.Repeat("-", 100), "", false},
		{"", "", false},
	} {
		got, ok := NormalizeUserCode(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeUserCode(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// SECURITY.md V1: codes come from the consonant alphabet, 8 characters,
// and every character of the alphabet occurs.
func TestNewUserCode(t *testing.T) {
	seen := map[rune]bool{}
	codes := map[string]bool{}
	for range 1000 {
		c := NewUserCode()
		n, ok := NormalizeUserCode(FormatUserCode(c))
		if !ok || n != c || len(c) != UserCodeLength {
			t.Fatalf("code %q does not round-trip (%q, %v)", c, n, ok)
		}
		for _, r := range c {
			seen[r] = true
		}
		codes[c] = true
	}
	if len(seen) != len(UserCodeAlphabet) {
		t.Fatalf("%d distinct characters in 1000 codes, want %d", len(seen), len(UserCodeAlphabet))
	}
	if len(codes) < 999 {
		t.Fatalf("only %d distinct codes of 1000", len(codes))
	}
	if got := FormatUserCode("BCDFGHJK"); got != "BCDF-GHJK" {
		t.Fatalf("FormatUserCode = %q", got)
	}
}

// FuzzNormalizeUserCode: whatever is typed, a normalised code is 8
// characters of the alphabet and normalising it again is the identity.
func FuzzNormalizeUserCode(f *testing.F) {
	for _, s := range []string{"BCDF-GHJK", "bcdf ghjk", "ÄÖÜ", "\x00", "BCDF-GHJ\u212a", strings.Repeat("B", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		code, ok := NormalizeUserCode(in)
		if !ok {
			if code != "" {
				t.Fatalf("refused input returned %q", code)
			}
			return
		}
		if len(code) != UserCodeLength {
			t.Fatalf("length %d", len(code))
		}
		for _, r := range code {
			if !strings.ContainsRune(UserCodeAlphabet, r) {
				t.Fatalf("character %q outside the alphabet", r)
			}
		}
		again, ok := NormalizeUserCode(FormatUserCode(code))
		if !ok || again != code {
			t.Fatalf("not idempotent: %q -> %q", code, again)
		}
	})
}
