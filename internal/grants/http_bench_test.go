package grants_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkTokenEndpointClientCredentialsHTTP is the client_credentials
// token endpoint behind a real loopback net/http server (keep-alive
// connections, client_secret_basic), so that a CPU profile shows what
// net/http's connection handling costs per token next to the handler
// (docs/benchmarks.md, "ES256 overheads": profile with -cpuprofile and
// focus on net/http.(*conn).serve). The client shares the process.
func BenchmarkTokenEndpointClientCredentialsHTTP(b *testing.B) {
	for _, alg := range []string{"ES256", "EdDSA"} {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b, alg)
			mux := http.NewServeMux()
			f.handler.Mount(mux)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			body := cc("orders:read").Encode()
			target := srv.URL + "/w/acme/oauth2/token"
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth(url.QueryEscape("svc"), url.QueryEscape(f.secrets["svc"]))
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
