package grants_test

import (
	"context"
	"crypto/x509"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// BenchmarkJWTBearer measures the in-process JWT bearer grant
// (docs/benchmarks.md): an RS256 assertion verified against an uploaded certificate,
// the user looked up, the jti spent in SQLite, and an access token signed
// with the workspace key (RS256 or ES256). The "raw" sub-benchmark is the
// floor measured in the same run: one RS256 verification plus one signature
// with the same key. Goal: endpoint ≥ 75% of raw.
func BenchmarkJWTBearer(b *testing.B) {
	for _, alg := range []string{oauth2.AlgRS256, oauth2.AlgES256} {
		b.Run("at="+alg, func(b *testing.B) {
			f := benchFixture(b, alg)
			b.Run("raw", func(b *testing.B) { benchRaw(b, f) })
			b.Run("endpoint", func(b *testing.B) { benchEndpoint(b, f) })
		})
	}
}

func benchFixture(b *testing.B, alg string) *fixture {
	bearerKeys(b)
	f := newFixture(b, alg)
	now := time.Now()
	f.user(b, "acme", storage.User{ID: "usr-alice", Username: "alice"})
	f.client(b, storage.Client{ID: "bench", Scopes: allScopes, GrantTypes: []string{oauth2.GrantJWTBearer}})
	f.uploadCert(b, "bench", "k1", selfSigned(b, rsaKeyA, "bench", x509.KeyUsageDigitalSignature, now.Add(-time.Hour), now.Add(24*time.Hour)))
	return f
}

func benchRaw(b *testing.B, f *fixture) {
	signer, err := f.env.Keys.Signer(context.Background(), "acme")
	if err != nil {
		b.Fatal(err)
	}
	assertion := sign(b, jose.RS256, rsaKeyA, "k1", bearerClaims("bench", "alice", f.tokenURL("acme")))
	keys := []jose.JSONWebKey{{Key: rsaKeyA.Public(), KeyID: "k1"}}
	payload := []byte(`{"iss":"x","sub":"alice","client_id":"bench","scope":"orders:read","jti":"abc","iat":1,"exp":2,"aud":"https://orders.example/api"}`)
	defer startTimedLoop(b).report(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tok, err := jwtx.Parse(assertion, []string{"RS256"}, 0)
			if err != nil {
				b.Fatal(err)
			}
			if err := tok.Verify(keys); err != nil {
				b.Fatal(err)
			}
			if _, err := signer.Sign(payload, oauth2.AccessTokenJWTType); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchParallelism is goroutines per GOMAXPROCS for the endpoint
// sub-benchmark.
const benchParallelism = 8

func benchEndpoint(b *testing.B, f *fixture) {
	mux := http.NewServeMux()
	f.handler.Mount(mux)
	// Assertions are single use: sign them all before timing.
	forms := make([]map[string][]string, b.N)
	for i := range forms {
		forms[i] = bearerForm(sign(b, jose.RS256, rsaKeyA, "k1", bearerClaims("bench", "alice", f.tokenURL("acme"), "scope", "orders:read")))
	}
	var next atomic.Int64
	// Many requests in flight, as from a load generator: while one waits
	// for the database (the jti insert must reach disk), others compute.
	b.SetParallelism(benchParallelism)
	defer startTimedLoop(b).report(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			form := forms[next.Add(1)-1]
			if rec := httptestPost(mux, "/w/acme/oauth2/token", form, "", ""); rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

// cpuMeter reports how many cores the process kept busy while the timed
// loop ran ("cores"): below GOMAXPROCS, requests were waiting (for the
// database, for the scheduler) rather than computing.
type cpuMeter struct {
	wall time.Time
	cpu  time.Duration
}

// startTimedLoop starts the timer of b (allocations reported) and the CPU
// meter together, right before the timed loop.
func startTimedLoop(b *testing.B) cpuMeter {
	b.ReportAllocs()
	m := cpuMeter{wall: time.Now(), cpu: processCPU()}
	b.ResetTimer()
	return m
}

func (m cpuMeter) report(b *testing.B) {
	b.StopTimer()
	used := processCPU() - m.cpu
	b.ReportMetric(used.Seconds()/time.Since(m.wall).Seconds(), "cores")
	b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
