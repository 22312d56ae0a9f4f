package service

import (
	"strings"
	"testing"
)

// FuzzRedirectURI: any input yields a verdict, never a panic, and accepted
// URIs satisfy the E3 invariants.
func FuzzRedirectURI(f *testing.F) {
	for _, s := range []string{"https://a.example/cb", "http://127.0.0.1:1/cb", "JaVaScRiPt:alert(1)",
		"com.example:/x", "https://a.example/#f", "http://[::1]/", "https://u@h/", "%zz", "https://a.example\\@evil"} {
		f.Add(s, "public")
		f.Add(s, "confidential")
	}
	f.Fuzz(func(t *testing.T, raw, typ string) {
		if redirectURIProblem(raw, typ) != "" {
			return
		}
		lower := strings.ToLower(raw)
		if strings.ContainsAny(raw, "#* ") || strings.HasPrefix(lower, "javascript:") || strings.HasPrefix(lower, "data:") {
			t.Fatalf("accepted %q", raw)
		}
	})
}

// FuzzJWKS: arbitrary JWKS bytes never panic; accepted sets re-parse.
func FuzzJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQ"}]}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var v validator
		out := normalizeJWKS(&v, "jwks", raw)
		if (out == nil) == (len(v.errs) == 0) {
			t.Fatalf("result and errors disagree for %q", raw)
		}
		if out != nil {
			var v2 validator
			if normalizeJWKS(&v2, "jwks", out) == nil {
				t.Fatalf("normalized set does not re-validate: %s", out)
			}
		}
	})
}
