package grants_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/latchkey/latchkey/internal/dpop"
	"github.com/latchkey/latchkey/internal/oauth2"
)

// BenchmarkTokenEndpointDPoP compares a client_credentials token bound to
// a DPoP key with a Bearer one on the same in-process endpoint (ES256
// workspace keys): the difference is the proof check, one ES256
// verification plus parsing, and the proof's jti spent in the store
// (docs/benchmarks.md "DPoP"). Proofs are signed before the timer starts,
// as the client signs them. Compare the difference with
// internal/dpop's BenchmarkES256Verify.
func BenchmarkTokenEndpointDPoP(b *testing.B) {
	for _, mode := range []string{"Bearer", "DPoP"} {
		b.Run(mode, func(b *testing.B) {
			f := newFixture(b, oauth2.AlgES256)
			f.handler.DPoP.Verifier = &dpop.Verifier{Store: f.env.Store, Now: f.env.Clock.Now}
			mux := http.NewServeMux()
			f.handler.Mount(mux)
			var proofs []string
			if mode == "DPoP" {
				s, err := dpop.NewProofSigner(nil, "")
				if err != nil {
					b.Fatal(err)
				}
				proofs = make([]string, b.N)
				for i := range proofs {
					if proofs[i], err = s.Proof("POST", f.env.Issuer("acme")+"/oauth2/token", "", "", f.env.Clock.Now()); err != nil {
						b.Fatal(err)
					}
				}
			}
			var next atomic.Int64
			form := cc("orders:read").Encode()
			// Enough concurrent requests for the store to group-commit the
			// jti writes, as a loaded server does.
			b.SetParallelism(8)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, "/w/acme/oauth2/token", strings.NewReader(form))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth("svc", f.secrets["svc"])
					if proofs != nil {
						req.Header.Set("DPoP", proofs[next.Add(1)-1])
					}
					rec := httptest.NewRecorder()
					mux.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
				}
			})
			// CPU time of the whole process per token (the store's
			// batcher and SQLite included): what the token costs the
			// server, independent of waiting for the disk and of other
			// load on the machine.
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
