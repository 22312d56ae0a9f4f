package sqlstore

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// prefixRange's [lo, hi) holds exactly the strings that start with the
// prefix, in byte order, including at the edges of the code point space.
func TestPrefixRange(t *testing.T) {
	cases := []struct {
		p, hi string
		ok    bool
	}{
		{"abc", "abd", true},
		{"a%", "a&", true},
		{"a\u007f", "a\u0080", true},        // one byte becomes two
		{"a\ud7ff", "a\ue000", true},        // over the surrogates
		{"a\U0010ffff", "b", true},          // carry
		{"\U0010ffff\U0010ffff", "", false}, // no upper bound
		{"", "", false},
	}
	for _, c := range cases {
		lo, hi, ok := prefixRange(c.p)
		if lo != c.p || hi != c.hi || ok != c.ok {
			t.Errorf("prefixRange(%q) = %q, %q, %v; want %q, %q, %v", c.p, lo, hi, ok, c.p, c.hi, c.ok)
		}
	}
	for _, p := range []string{"abc", "é", "a\U0010ffff", "z\ud7ff"} {
		lo, hi, ok := prefixRange(p)
		for _, s := range []string{p, p + "\x00", p + "zz", p + "\U0010ffff\U0010ffff", strings.TrimSuffix(p, "c"), p[:len(p)-1] + "\U0010ffff", hi, "a", "zzzz"} {
			if !utf8.ValidString(s) {
				continue
			}
			in := s >= lo && (!ok || s < hi)
			if in != strings.HasPrefix(s, p) {
				t.Errorf("prefix %q: %q in range = %v, HasPrefix = %v", p, s, in, !in)
			}
		}
	}
}

func TestASCIILower(t *testing.T) {
	if got := asciiLower("AbZ-ÄÉ@X"); got != "abz-ÄÉ@x" {
		t.Fatalf("asciiLower = %q", got)
	}
}
