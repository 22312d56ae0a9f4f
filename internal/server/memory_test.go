package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestGoroutinesReturnToIdle drives a burst of concurrent requests of every
// kind the load benchmark mixes (tokens, introspection, revocation,
// discovery, JWKS, failed client authentication, admin lists and search)
// through a real server on loopback, closes the client's connections, and
// requires the server's goroutines to come back to their idle count
// (docs/benchmarks.md, memory: nothing per request may outlive it: no batcher, timer
// or connection goroutine left behind).
func TestGoroutinesReturnToIdle(t *testing.T) {
	admin := strings.Repeat("a", 40)
	r := start(t, testConfig(t, seededDataDir(t), map[string]string{"LATCHKEY_ADMIN_TOKEN": admin}))
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	call := func(method, path, contentType, body string, header map[string]string) (int, map[string]any) {
		req, err := http.NewRequestWithContext(t.Context(), method, r.url(path), strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		req.Header.Set("Content-Type", contentType)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var doc map[string]any
		_ = json.Unmarshal(raw, &doc)
		return resp.StatusCode, doc
	}
	bearer := map[string]string{"Authorization": "Bearer " + admin}
	if code, doc := call("POST", "/admin/v1/workspaces/default/services", "application/json",
		`{"name":"Orders","identifier":"https://orders.example","scopes":[{"name":"orders:read","description":"read"}]}`, bearer); code != 201 {
		t.Fatalf("create service: %d %v", code, doc)
	}
	code, cl := call("POST", "/admin/v1/workspaces/default/clients", "application/json",
		`{"name":"svc","type":"confidential","grant_types":["client_credentials"],"scopes":["orders:read"],"token_endpoint_auth_method":"client_secret_basic"}`, bearer)
	if code != 201 {
		t.Fatalf("create client: %d %v", code, cl)
	}
	basic := map[string]string{"Authorization": "Basic " + basicAuth(cl["client_id"].(string), cl["client_secret"].(string))}
	wrong := map[string]string{"Authorization": "Basic " + basicAuth(cl["client_id"].(string), "wrong")}
	form := "application/x-www-form-urlencoded"

	// Idle: after start-up and the set-up calls, with no connection open.
	tr.CloseIdleConnections()
	idle := settledGoroutines(t, 0, 2*time.Second)

	var wg sync.WaitGroup
	for w := range 24 {
		wg.Go(func() {
			for i := range 10 {
				switch (w + i) % 6 {
				case 0, 1:
					code, tok := call("POST", "/w/default/oauth2/token", form, "grant_type=client_credentials&scope=orders%3Aread", basic)
					if code != 200 {
						t.Errorf("token: %d %v", code, tok)
						return
					}
					at := url.QueryEscape(tok["access_token"].(string))
					call("POST", "/w/default/oauth2/introspect", form, "token="+at, basic)
					if i%3 == 0 {
						call("POST", "/w/default/oauth2/revoke", form, "token="+at, basic)
					}
				case 2:
					call("POST", "/w/default/oauth2/token", form, "grant_type=client_credentials", wrong)
				case 3:
					call("GET", "/w/default/.well-known/openid-configuration", "", "", nil)
					call("GET", "/w/default/oauth2/jwks", "", "", nil)
				case 4:
					call("GET", "/admin/v1/workspaces/default/clients?q=sv", "", "", bearer)
				case 5:
					call("GET", "/metrics", "", "", nil)
				}
			}
		})
	}
	wg.Wait()
	tr.CloseIdleConnections()
	if n := settledGoroutines(t, idle, 10*time.Second); n > idle {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after the burst, %d idle before it:\n%s", n, idle, buf[:runtime.Stack(buf, true)])
	}
}

// settledGoroutines waits until the goroutine count is at most want (0:
// until it stops changing) and returns it.
func settledGoroutines(t *testing.T, want int, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	last := runtime.NumGoroutine()
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n := runtime.NumGoroutine()
		if want > 0 && n <= want {
			return n
		}
		if want == 0 && n == last {
			return n
		}
		last = n
	}
	return last
}

// TestIdleHeapProfile writes the heap profile of a freshly started server
// to $LATCHKEY_HEAP_PROFILE (skipped when unset), for
// `go tool pprof -inuse_space` (docs/benchmarks.md, "Memory").
func TestIdleHeapProfile(t *testing.T) {
	path := os.Getenv("LATCHKEY_HEAP_PROFILE")
	if path == "" {
		t.Skip("set LATCHKEY_HEAP_PROFILE to a file to write the idle heap profile")
	}
	runtime.MemProfileRate = 1 // every allocation from here on, not a sample
	r := start(t, testConfig(t, t.TempDir(), nil))
	_, _ = get(t, r.url("/readyz"), nil)
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		t.Fatal(err)
	}
}
