package signing

import (
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// benchPayload is a typical access token claims set.
var benchPayload = []byte(`{"iss":"http://127.0.0.1:8080/w/default","sub":"svc-reporting",` +
	`"aud":"https://api.example.com","client_id":"svc-reporting","scope":"reports:read reports:write",` +
	`"jti":"q2mJ0m3m8bX6m1dWvQ7p9A","iat":1767268800,"exp":1767272400}`)

// BenchmarkSignRaw is the raw signing rate of one key per algorithm: the
// ceiling the token endpoint is measured against (docs/benchmarks.md).
func BenchmarkSignRaw(b *testing.B) {
	for _, alg := range oauth2.SigningAlgs {
		b.Run(alg, func(b *testing.B) {
			s, err := EphemeralSigner(alg)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Sign(benchPayload, oauth2.AccessTokenJWTType); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
