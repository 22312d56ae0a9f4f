package lke2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/oauthclient"
)

// countingProxy is an HTTP forward proxy (absolute-form requests and
// CONNECT tunnels) that requires Basic proxy credentials and counts what it
// forwards.
type countingProxy struct {
	*httptest.Server
	forwarded, tunnels, refused atomic.Int64
	user, pass                  string
}

func newCountingProxy(t *testing.T, user, pass string) *countingProxy {
	p := &countingProxy{user: user, pass: pass}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

func (p *countingProxy) serve(w http.ResponseWriter, r *http.Request) {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.user+":"+p.pass))
	if r.Header.Get("Proxy-Authorization") != want {
		p.refused.Add(1)
		w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusProxyAuthRequired)
		return
	}
	if r.Method == http.MethodConnect {
		p.tunnel(w, r)
		return
	}
	p.forward(w, r)
}

func (p *countingProxy) forward(w http.ResponseWriter, r *http.Request) {
	p.forwarded.Add(1)
	out, _ := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), r.Body)
	out.Header = r.Header.Clone()
	out.Header.Del("Proxy-Authorization")
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (p *countingProxy) tunnel(w http.ResponseWriter, r *http.Request) {
	p.tunnels.Add(1)
	dst, err := net.DialTimeout("tcp", r.Host, 5*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		dst.Close()
		return
	}
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	go func() { _, _ = io.Copy(dst, conn); dst.Close() }()
	go func() { _, _ = io.Copy(conn, dst); conn.Close() }()
}

// TestProxyToLoopbackLatchkey: the proxy is used even though the server is
// on loopback (http.ProxyFromEnvironment would skip it), with credentials
// from the proxy URL.
func TestProxyToLoopbackLatchkey(t *testing.T) {
	lk := startLatchkey(t)
	id, secret := lk.client(t, "client_secret_basic", nil)
	p := newCountingProxy(t, "proxyuser", "p@ss word")
	pu, _ := url.Parse(p.URL)
	pu.User = url.UserPassword("proxyuser", "p@ss word")
	hc, err := oauthclient.NewHTTPClient(pu.String(), 0)
	if err != nil {
		t.Fatal(err)
	}
	c := &oauthclient.Client{HTTP: hc, Issuer: lk.issuer, Auth: oauthclient.ClientAuth{Method: oauthclient.AuthClientSecretBasic, ClientID: id, ClientSecret: secret}}
	if _, err := c.ClientCredentials(t.Context(), oauthclient.Params{}); err != nil {
		t.Fatal(err)
	}
	if n := p.forwarded.Load(); n != 2 { // discovery + token
		t.Fatalf("proxy forwarded %d requests, want 2", n)
	}

	// Wrong proxy credentials: the proxy refuses, nothing reaches the server.
	pu.User = url.UserPassword("proxyuser", "wrong")
	hc, _ = oauthclient.NewHTTPClient(pu.String(), 0)
	c = &oauthclient.Client{HTTP: hc, Issuer: lk.issuer, Auth: c.Auth}
	if _, err := c.ClientCredentials(t.Context(), oauthclient.Params{}); err == nil {
		t.Fatal("request went through with wrong proxy credentials")
	}
	if p.refused.Load() == 0 {
		t.Fatal("proxy saw no refused request")
	}
}

// TestProxyHTTPSConnect: HTTPS goes through the proxy with CONNECT.
func TestProxyHTTPSConnect(t *testing.T) {
	as := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer","expires_in":60}`))
	}))
	defer as.Close()
	p := newCountingProxy(t, "u", "p")
	hc, err := oauthclient.NewHTTPClient("http://u:p@"+p.Listener.Addr().String(), 0)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(as.Certificate())
	hc.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	c := &oauthclient.Client{HTTP: hc, TokenEndpoint: as.URL + "/token", Auth: oauthclient.ClientAuth{Method: oauthclient.AuthClientSecretPost, ClientID: "a", ClientSecret: "b"}}
	tok, err := c.ClientCredentials(t.Context(), oauthclient.Params{})
	if err != nil || tok.AccessToken != "at" {
		t.Fatalf("%+v %v", tok, err)
	}
	if p.tunnels.Load() != 1 || p.forwarded.Load() != 0 {
		t.Fatalf("tunnels %d forwarded %d", p.tunnels.Load(), p.forwarded.Load())
	}
}

func TestBadProxyURL(t *testing.T) {
	for _, u := range []string{"socks5://x:1", "://", "http://"} {
		if _, err := oauthclient.NewHTTPClient(u, 0); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}
