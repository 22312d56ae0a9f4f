package ssrf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Defaults for NewClient.
const (
	DefaultTimeout = 5 * time.Second
	DefaultMaxBody = 256 << 10
)

// ErrBodyTooLarge is returned while reading a response body beyond the cap.
var ErrBodyTooLarge = errors.New("ssrf: response body too large")

// Options configures NewClient. AllowPrivate and AllowHTTP exist for tests
// and for operators whose JWKS servers live on an internal network.
type Options struct {
	AllowPrivate bool
	AllowHTTP    bool
	Timeout      time.Duration // whole request, default 5s (L5)
	MaxBody      int64         // response body cap, default 256 KiB (L5)
	// RootCAs, when set, replaces the system roots for TLS verification:
	// for tests against httptest.NewTLSServer and for operators with a
	// private CA. Certificate verification is never switched off.
	RootCAs *x509.CertPool
}

// NewClient returns an http.Client for fetching client-registered URLs:
// dial-time IP checks (no loopback/private/link-local/CGNAT/unspecified
// unless Options.AllowPrivate), https only unless AllowHTTP, no redirects,
// 5s timeout, capped response bodies.
func NewClient(opts Options) *http.Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	return &http.Client{
		Transport: &guard{opts: opts, next: newTransport(opts)},
		Timeout:   opts.Timeout,
		// L4: a redirect is returned as the response, never followed, so a
		// public URL cannot bounce the fetch to an internal one.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func newTransport(opts Options) *http.Transport {
	dialer := &net.Dialer{
		Timeout: opts.Timeout,
		Control: dialControl(opts.AllowPrivate),
	}
	return &http.Transport{
		Proxy:                  nil, // never an environment proxy: the dial check must see the real peer
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    opts.Timeout,
		ResponseHeaderTimeout:  opts.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
		TLSClientConfig:        &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12},
		DisableCompression:     true, // the body cap then bounds what we hold in memory
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
	}
}

// dialControl checks the resolved address right before connect (L3). It
// runs for every address the resolver returns, so DNS rebinding between
// registration and fetch gains nothing.
func dialControl(allowPrivate bool) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if network != "tcp4" && network != "tcp6" {
			return fmt.Errorf("ssrf: network %q not allowed", network)
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("ssrf: bad dial address: %w", err)
		}
		if !allowPrivate && IsBlockedIP(ap.Addr()) {
			return ErrBlockedHost
		}
		return nil
	}
}

// guard enforces the URL rules on every request (defence in depth for
// callers that skipped ValidateURL) and caps response bodies.
type guard struct {
	opts Options
	next http.RoundTripper
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := ValidateURLWith(req.URL.String(), g.opts); err != nil {
		return nil, err
	}
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{rc: resp.Body, left: g.opts.MaxBody}
	return resp, nil
}

// cappedBody fails the read once more than the cap has arrived, rather than
// truncating silently, so a cut-off document is never parsed as complete.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, ErrBodyTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, ErrBodyTooLarge
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }
