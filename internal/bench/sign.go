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
// with a fresh key of alg, using every core, for d, on the fastest crypto
// backend available (see SignRates). It signs through the same signer type
// the server uses, so the ratio isolates the HTTP and protocol overhead.
func SignRate(ctx context.Context, alg string, d time.Duration) (float64, error) {
	rates, err := SignRates(ctx, alg, d)
	if err != nil {
		return 0, err
	}
	return fastest(rates), nil
}

// SignRates measures the raw signing rate of alg on each crypto backend
// this machine has (Go's always, OpenSSL's when libcrypto 3 loads), each
// for d: benchmarks report both, and ratios are taken against the fastest,
// so that a slow backend never flatters the server.
func SignRates(ctx context.Context, alg string, d time.Duration) (map[string]float64, error) {
	rates := map[string]float64{}
	for _, backend := range []string{signing.BackendGo, signing.BackendOpenSSL} {
		signer, err := signing.EphemeralSignerOn(alg, backend)
		if err != nil {
			if backend == signing.BackendOpenSSL {
				continue // not on this machine: Go's rate stands alone
			}
			return nil, err
		}
		rates[backend] = parallelRate(ctx, d, func() bool {
			_, err := signer.Sign(samplePayload, "at+jwt")
			return err == nil
		})
	}
	return rates, nil
}

func fastest(rates map[string]float64) float64 {
	var best float64
	for _, r := range rates {
		best = max(best, r)
	}
	return best
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
