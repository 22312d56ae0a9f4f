package ssrf

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestValidateURL(t *testing.T) {
	tests := []struct {
		url  string
		want error // nil = accepted
	}{
		{"https://keys.example.com/jwks.json", nil},
		{"https://keys.example.com:8443/jwks", nil},
		{"https://93.184.215.14/jwks", nil},
		{"http://keys.example.com/jwks", ErrScheme},         // L1
		{"ftp://keys.example.com/jwks", ErrScheme},          // L1
		{"//keys.example.com/jwks", ErrScheme},              // no scheme
		{"https://user:pw@keys.example.com/", ErrUserinfo},  // userinfo
		{"https://keys.example.com/jwks#frag", ErrFragment}, // fragment
		{"https://keys.example.com/jwks#", ErrFragment},     // empty fragment
		{"https:///jwks", ErrInvalidURL},                    // host required
		{"https:opaque", ErrInvalidURL},                     // opaque
		{"https://127.0.0.1/jwks", ErrBlockedHost},          // L2 loopback
		{"https://[::1]/jwks", ErrBlockedHost},              // L2
		{"https://10.0.0.1/jwks", ErrBlockedHost},           // L2 private
		{"https://172.16.5.4/jwks", ErrBlockedHost},         // L2 private
		{"https://192.168.1.1/jwks", ErrBlockedHost},        // L2 private
		{"https://169.254.169.254/latest/meta-data", ErrBlockedHost},
		{"https://[fd00:ec2::254]/", ErrBlockedHost},          // L2 ULA
		{"https://[fe80::1]/", ErrBlockedHost},                // link-local
		{"https://0.0.0.0/", ErrBlockedHost},                  // unspecified
		{"https://2130706433/", ErrBlockedHost},               // decimal 127.0.0.1
		{"https://0x7f.1/", ErrBlockedHost},                   // hex + short form
		{"https://0177.0.0.1/", ErrBlockedHost},               // octal
		{"https://0x7f000001/", ErrBlockedHost},               // hex
		{"https://[::ffff:127.0.0.1]/", ErrBlockedHost},       // mapped
		{"https://[::ffff:7f00:1]/", ErrBlockedHost},          // mapped, hex
		{"https://[64:ff9b::a00:1]/", ErrBlockedHost},         // NAT64 of 10.0.0.1
		{"https://100.64.0.1/", ErrBlockedHost},               // CGNAT
		{"https://100.127.255.254/", ErrBlockedHost},          // CGNAT
		{"https://224.0.0.1/", ErrBlockedHost},                // multicast
		{"https://255.255.255.255/", ErrBlockedHost},          // broadcast
		{"https://localhost/jwks", ErrBlockedHost},            // name
		{"https://LOCALHOST./jwks", ErrBlockedHost},           // name, case and dot
		{"https://api.localhost/jwks", ErrBlockedHost},        // RFC 6761
		{"https://metadata.google.internal/", ErrBlockedHost}, // internal
		{"https://1.2.3.4.5/", ErrInvalidURL},                 // numeric but not an address
		{"https://example.0x1/", ErrInvalidURL},               // numeric last label
		{"https://[fe80::1%25eth0]/", ErrInvalidURL},          // zone
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			err := ValidateURL(tc.url, false)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("ValidateURL(%q) = %v, want %v", tc.url, err, tc.want)
			}
		})
	}
}

func TestValidateURLAllowances(t *testing.T) {
	if err := ValidateURL("https://127.0.0.1:8443/jwks", true); err != nil {
		t.Fatalf("AllowPrivate: %v", err)
	}
	if err := ValidateURLWith("http://127.0.0.1/jwks", Options{AllowPrivate: true, AllowHTTP: true}); err != nil {
		t.Fatalf("AllowHTTP: %v", err)
	}
	if err := ValidateURL("http://127.0.0.1/jwks", true); !errors.Is(err, ErrScheme) {
		t.Fatalf("AllowPrivate must not allow http: %v", err)
	}
}

func TestParseInetAton(t *testing.T) {
	for in, want := range map[string]string{
		"2130706433": "127.0.0.1", "0x7f.1": "127.0.0.1", "0177.0.0.1": "127.0.0.1",
		"127.1": "127.0.0.1", "10.0x10.1": "10.16.0.1", "0": "0.0.0.0", "1.2.3.4": "1.2.3.4",
	} {
		got, ok := parseInetAton(in)
		if !ok || got != netip.MustParseAddr(want) {
			t.Errorf("parseInetAton(%q) = %v, %v; want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"256.1.1.1", "1.2.3.256", "1.2.65536", "4294967296", "example", "1.2.3.4.5", "0x", "09"} {
		if got, ok := parseInetAton(in); ok {
			t.Errorf("parseInetAton(%q) = %v, want failure", in, got)
		}
	}
}

// countingServer is a loopback listener that counts accepted connections.
type countingServer struct {
	*httptest.Server
	conns atomic.Int64
	hits  atomic.Int64
}

func newCountingServer(t *testing.T, h http.HandlerFunc) *countingServer {
	t.Helper()
	cs := &countingServer{}
	cs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.hits.Add(1)
		h(w, r)
	}))
	cs.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			cs.conns.Add(1)
		}
	}
	cs.Start()
	t.Cleanup(cs.Close)
	return cs
}

// TestClientBlocksInternalTargets: SECURITY.md L2/L3 — every internal target
// is refused, and the listener on loopback sees zero connections.
func TestClientBlocksInternalTargets(t *testing.T) {
	srv := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{}")) })
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	client := NewClient(Options{AllowHTTP: true, Timeout: time.Second})
	for _, host := range []string{"127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433", "0x7f.1", "127.1"} {
		u := "http://" + host + ":" + itoa(port) + "/"
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: request succeeded", u)
		}
	}
	// L3: the dial-time check holds even when the URL check is bypassed,
	// which is what a DNS name resolving to loopback looks like.
	tr := newTransport(Options{Timeout: time.Second})
	if conn, err := tr.DialContext(t.Context(), "tcp", srv.Listener.Addr().String()); err == nil {
		conn.Close()
		t.Error("dial to loopback succeeded")
	} else if !errors.Is(err, ErrBlockedHost) {
		t.Errorf("dial error = %v, want ErrBlockedHost", err)
	}
	if n := srv.conns.Load(); n != 0 {
		t.Fatalf("listener saw %d connections, want 0", n)
	}
}

func TestClientHTTPSOnly(t *testing.T) {
	srv := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) {})
	client := NewClient(Options{AllowPrivate: true})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	if resp, err := client.Do(req); err == nil || !errors.Is(err, ErrScheme) {
		if resp != nil {
			resp.Body.Close()
		}
		t.Fatalf("http allowed: %v", err)
	}
	if srv.conns.Load() != 0 {
		t.Fatal("connection made for a refused scheme")
	}
}

// TestClientNoRedirects: L4.
func TestClientNoRedirects(t *testing.T) {
	target := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"keys":[]}`)) })
	redir := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/jwks", http.StatusFound)
	})
	client := NewClient(Options{AllowPrivate: true, AllowHTTP: true})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, redir.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || target.hits.Load() != 0 {
		t.Fatalf("status %d, target hits %d", resp.StatusCode, target.hits.Load())
	}
	cache := NewJWKSCache(client, CacheOptions{})
	if _, err := cache.Get(t.Context(), redir.URL); !errors.Is(err, ErrFetch) {
		t.Fatalf("cache followed redirect: %v", err)
	}
	if target.hits.Load() != 0 {
		t.Fatal("redirect target was contacted")
	}
}

// TestClientLimits: L5 — body cap and timeout.
func TestClientLimits(t *testing.T) {
	big := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", DefaultMaxBody+10)))
	})
	release := make(chan struct{})
	slow := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	client := NewClient(Options{AllowPrivate: true, AllowHTTP: true, Timeout: 300 * time.Millisecond})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, big.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("body read error = %v, want ErrBodyTooLarge", err)
	}
	start := time.Now()
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, slow.URL, nil)
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("slow server did not time out")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timeout took %v", d)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func publicJWKS(t *testing.T, n int) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set := jose.JSONWebKeySet{}
	for i := range n {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: "k" + itoa(i), Algorithm: "ES256", Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestJWKSCacheTTLAndCooldown(t *testing.T) {
	body := publicJWKS(t, 2)
	srv := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) })
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	c := NewJWKSCache(NewClient(Options{AllowPrivate: true, AllowHTTP: true}), CacheOptions{Now: clock.Now})
	ctx := t.Context()
	set, err := c.Get(ctx, srv.URL)
	if err != nil || len(set.Keys) != 2 {
		t.Fatalf("Get = %d keys, %v", len(set.Keys), err)
	}
	// A5: 100 requests with random kids each ask for a refresh; within the
	// cool-down none of them fetches.
	for range 100 {
		if _, err := c.Refresh(ctx, srv.URL); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, srv.URL); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("fetches within cool-down = %d, want 1", n)
	}
	clock.Add(DefaultCooldown + time.Second)
	if _, err := c.Refresh(ctx, srv.URL); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		_, _ = c.Refresh(ctx, srv.URL)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("fetches after cool-down = %d, want 2", n)
	}
	clock.Add(DefaultTTL)
	if _, err := c.Get(ctx, srv.URL); err != nil {
		t.Fatal(err)
	}
	if n := srv.hits.Load(); n != 3 {
		t.Fatalf("fetches after TTL = %d, want 3", n)
	}
}

func TestJWKSCacheSharesConcurrentFetch(t *testing.T) {
	body := publicJWKS(t, 1)
	release := make(chan struct{})
	srv := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		<-release
		_, _ = w.Write(body)
	})
	c := NewJWKSCache(NewClient(Options{AllowPrivate: true, AllowHTTP: true}), CacheOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c.Get(context.Background(), srv.URL)
			errs <- err
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}

func TestJWKSCacheRejectsBadSets(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	privSet, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv, KeyID: "p"}}})
	symSet, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "s"}}})
	tests := map[string]struct {
		status int
		body   []byte
	}{
		"L5 not JSON":          {200, []byte("<html>")},
		"L5 10000 keys":        {200, publicJWKS(t, DefaultMaxKeys+1)},
		"private key member":   {200, privSet},
		"symmetric key":        {200, symSet},
		"no keys array":        {200, []byte(`{"kes":[]}`)},
		"duplicate keys array": {200, []byte(`{"keys":[],"keys":[]}`)},
		"bad key":              {200, []byte(`{"keys":[{"kty":"RSA","n":"AQ"}]}`)},
		"server error":         {500, publicJWKS(t, 1)},
		"trailing data":        {200, append(publicJWKS(t, 1), '{')},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = w.Write(tc.body)
			})
			c := NewJWKSCache(NewClient(Options{AllowPrivate: true, AllowHTTP: true}), CacheOptions{})
			if _, err := c.Get(t.Context(), srv.URL); !errors.Is(err, ErrFetch) {
				t.Fatalf("Get = %v, want ErrFetch", err)
			}
			// The failure is remembered for the cool-down: no second fetch.
			if _, err := c.Get(t.Context(), srv.URL); !errors.Is(err, ErrFetch) {
				t.Fatalf("second Get = %v", err)
			}
			if n := srv.hits.Load(); n != 1 {
				t.Fatalf("fetches = %d, want 1", n)
			}
		})
	}
}

// TestJWKSCacheBlockedURL: a jwks_uri on loopback without AllowPrivate fails
// with the generic error (L6) and never connects.
func TestJWKSCacheBlockedURL(t *testing.T) {
	srv := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) {})
	c := NewJWKSCache(NewClient(Options{AllowHTTP: true}), CacheOptions{})
	_, err := c.Get(t.Context(), srv.URL)
	if !errors.Is(err, ErrFetch) || strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("Get = %v", err)
	}
	if srv.conns.Load() != 0 {
		t.Fatal("connection made")
	}
}

func TestIsBlockedIP(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "::1", "10.1.2.3", "169.254.169.254", "fd00:ec2::254", "0.0.0.0", "::", "100.64.0.1", "::ffff:10.0.0.1", "2002:7f00:1::", "ff02::1"} {
		if !IsBlockedIP(netip.MustParseAddr(s)) {
			t.Errorf("%s not blocked", s)
		}
	}
	for _, s := range []string{"93.184.215.14", "8.8.8.8", "2606:4700::1111", "100.128.0.1"} {
		if IsBlockedIP(netip.MustParseAddr(s)) {
			t.Errorf("%s blocked", s)
		}
	}
}
