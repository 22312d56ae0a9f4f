package introspect_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// serve runs one in-process request authenticated with client_secret_basic.
func serve(h http.Handler, target, id, secret string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// BenchmarkIntrospect measures in-process introspection of an active JWT
// access token by a resource server (signature check, client state,
// one revocation lookup). Goal: >= 15,000/s on 2 cores.
func BenchmarkIntrospect(b *testing.B) {
	for _, alg := range oauth2.SigningAlgs {
		b.Run(alg, func(b *testing.B) { benchmarkIntrospect(b, alg) })
	}
}

// BenchmarkIntrospectOwnToken is introspection by the client the token
// was issued to, as `latchkey bench` measures it over HTTP.
func BenchmarkIntrospectOwnToken(b *testing.B) {
	benchmarkIntrospectBy(b, oauth2.AlgES256, "app")
}

func benchmarkIntrospect(b *testing.B, alg string) {
	benchmarkIntrospectBy(b, alg, ordersAPI)
}

func benchmarkIntrospectBy(b *testing.B, alg, caller string) {
	f := newFixtureAlg(b, alg)
	tok := f.token(b, "acme", "app")
	mux := http.NewServeMux()
	f.handler.Mount(mux)
	form := url.Values{"token": {tok}}
	secret := f.secrets["acme/"+caller]
	// Several requests in flight per core, as on a loaded server: the
	// revocation reads of concurrent calls may share one query.
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := serve(mux, "/w/acme/oauth2/introspect", caller, secret, form)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"active":true`) {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	})
	// CPU time of the whole process per call (the store included): what
	// an introspection costs, independent of other load on the machine.
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}

// processCPU is the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
