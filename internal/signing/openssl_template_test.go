//go:build linux && cgo

package signing

import "testing"

// BenchmarkOpenSSLTemplate compares initialising a signing context per
// signature with copying one initialised per key.
func BenchmarkOpenSSLTemplate(b *testing.B) {
	requireOpenSSL(b)
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		for _, tmpl := range []bool{false, true} {
			name := alg + "/init"
			if tmpl {
				name = alg + "/copy"
			}
			b.Run(name, func(b *testing.B) {
				useTemplates = tmpl
				defer func() { useTemplates = true }()
				s, err := EphemeralSignerOn(alg, BackendOpenSSL)
				if err != nil {
					b.Fatal(err)
				}
				payload := []byte(`{"aud":"https://api.example.com","client_id":"bench","exp":1900000000}`)
				for b.Loop() {
					if _, err := s.Sign(payload, "at+jwt"); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
