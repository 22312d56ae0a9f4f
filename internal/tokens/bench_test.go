package tokens

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// BenchmarkMint is the cost of one client_credentials access token per
// algorithm; compare with signing.BenchmarkSignRaw (docs/benchmarks.md).
func BenchmarkMint(b *testing.B) {
	for _, alg := range oauth2.SigningAlgs {
		b.Run(alg, func(b *testing.B) {
			s := signerFor(b, alg)
			at := sample()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := Mint(s, at); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkVerify is the cost of checking one of our access tokens, the
// core of introspection.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range oauth2.SigningAlgs {
		b.Run(alg, func(b *testing.B) {
			s := signerFor(b, alg)
			tok, err := Mint(s, sample())
			if err != nil {
				b.Fatal(err)
			}
			keys := jwks(s)
			at := now.Add(time.Minute)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := Verify(tok, keys, issuer, at); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
