package bench

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// samplePayload has the size and shape of a client_credentials access token's
// claims, so the raw rate signs what the server signs.
var samplePayload = []byte(`{"aud":"https://api.example.com","client_id":"bench-client-0123456789",` +
	`"exp":1900000000,"iat":1899996400,"iss":"http://127.0.0.1:8080/w/bench","jti":"Yk3P0mE2v9qC1a8XzT4uJw",` +
	`"scope":"bench:read bench:write","sub":"bench-client-0123456789"}`)

// SignRate measures how many JWS signatures per second this machine makes
// with a fresh key of alg, using every core, for d.
func SignRate(ctx context.Context, alg string, d time.Duration) (float64, error) {
	signer, err := newSigner(alg)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, err := signer.Sign(samplePayload); err == nil {
					n.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}

func newSigner(alg string) (jose.Signer, error) {
	key, err := generateKey(alg)
	if err != nil {
		return nil, err
	}
	opts := (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", "bench")
	return jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, opts)
}

func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case "RS256", "PS256":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("bench: unsupported algorithm %q", alg)
}
