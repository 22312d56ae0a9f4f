package grants_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// httptestPost runs one in-process token request against h.
func httptestPost(h http.Handler, target string, form url.Values, id, secret string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// BenchmarkTokenEndpointClientCredentials measures the whole in-process
// token endpoint (form parsing, client_secret_basic, scope policy,
// signing) per signing algorithm. Compare with the raw signing rate of the
// same key.
func BenchmarkTokenEndpointClientCredentials(b *testing.B) {
	for _, alg := range oauth2.SigningAlgs {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b, alg)
			mux := http.NewServeMux()
			f.handler.Mount(mux)
			benchTokens(b, mux, cc("orders:read"), "svc", f.secrets["svc"])
		})
	}
}

// benchTokens posts form as client id to acme's token endpoint from
// parallel goroutines, each request expecting 200.
func benchTokens(b *testing.B, mux http.Handler, form url.Values, id, secret string) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if rec := httptestPost(mux, "/w/acme/oauth2/token", form, id, secret); rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}
