package jwtx

import (
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// FuzzParse feeds arbitrary strings through Parse, Verify and Validate. The
// seeds run as a normal unit test. Properties: no panic, Validate never
// succeeds on an unverified token, anything Parse accepts is a compact
// JWS within the size cap whose alg is on the allowlist, and every refusal
// has a public description of this package fit for error_description.
func FuzzParse(f *testing.F) {
	testKeys(f)
	good := claimsJSON(f, goodClaims())
	seeds := []string{
		sign(f, jose.ES256, ecKey, "ec", "", goodClaims()),
		sign(f, jose.RS256, rsaKey, "", "at+jwt", goodClaims()),
		craft(f, `{"alg":"none"}`, good, nil),
		craft(f, `{"alg":"ES256","alg":"none"}`, good, ecKey),
		craft(f, `{"alg":"ES256","crit":["x"]}`, good, ecKey),
		craft(f, `{"alg":"ES256"}`, `{"exp":1e308,"aud":{}}`, ecKey),
		"a.b.c.d.e", "...", "", "{}", strings.Repeat(".", 100),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	keys := []jose.JSONWebKey{pubJWK(ecKey, "ec", "ES256"), pubJWK(rsaKey, "", "")}
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := Parse(raw, asym, 0)
		if err != nil {
			var e *Error
			if desc := Describe(err); !errors.As(err, &e) || !fitForErrorDescription(desc) {
				t.Fatalf("Parse(%q) = %v, described as %q", raw, err, desc)
			}
			return
		}
		if len(raw) > DefaultMaxSize || strings.Count(raw, ".") != 2 {
			t.Fatalf("Parse accepted malformed input %q", raw)
		}
		if err := tok.Validate(expected()); err == nil {
			t.Fatal("Validate succeeded before Verify")
		}
		if tok.Verify(keys) != nil && tok.Verified() {
			t.Fatal("failed Verify marked the token verified")
		}
		_ = tok.Validate(expected())
	})
}
