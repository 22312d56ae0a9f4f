package bench

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchkey/latchkey/internal/signing"
)

// samplePayload has the size and shape of a client_credentials access token's
// claims, so the raw rate signs what the server signs.
var samplePayload = []byte(`{"aud":"https://api.example.com","client_id":"bench-client-0123456789",` +
	`"exp":1900000000,"iat":1899996400,"iss":"http://127.0.0.1:8080/w/bench","jti":"Yk3P0mE2v9qC1a8XzT4uJw",` +
	`"scope":"bench:read bench:write","sub":"bench-client-0123456789"}`)

// SignRate measures how many JWS signatures per second this machine makes
// with a fresh key of alg, using every core, for d. It signs through the
// same signer type the server uses, so the ratio isolates the HTTP and
// protocol overhead.
func SignRate(ctx context.Context, alg string, d time.Duration) (float64, error) {
	signer, err := signing.EphemeralSigner(alg)
	if err != nil {
		return 0, err
	}
	return parallelRate(ctx, d, func() bool {
		_, err := signer.Sign(samplePayload, "at+jwt")
		return err == nil
	}), nil
}

// parallelRate runs op in a loop on every core for d and returns how many
// calls per second succeeded: the raw rates the load results are read
// against.
func parallelRate(ctx context.Context, d time.Duration, op func() bool) float64 {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for ctx.Err() == nil {
				if op() {
					n.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}
