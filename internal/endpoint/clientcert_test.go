package endpoint

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

func certPEM(t testing.TB, cn string) (*x509.Certificate, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestPresented: the proxy header is believed only from a trusted
// address and always removed; the TLS connection's certificate is used
// otherwise (RFC 8705 §2; SECURITY.md J2 for forwarded headers).
func TestPresented(t *testing.T) {
	leaf, p := certPEM(t, "proxied")
	direct, _ := certPEM(t, "direct")
	nginx := strings.ReplaceAll(url.QueryEscape(p), "+", "%20")
	src := &ClientCertSource{Header: "X-Client-Cert", Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	for _, tc := range []struct {
		name, remote, header string
		tls                  bool
		src                  *ClientCertSource
		want                 *x509.Certificate
	}{
		{"trusted proxy, nginx escaping", "10.1.2.3:5000", nginx, false, src, leaf},
		{"trusted proxy, form escaping", "10.1.2.3:5000", url.QueryEscape(p), false, src, leaf},
		{"trusted proxy, IPv4-mapped address", "[::ffff:10.1.2.3]:5000", nginx, false, src, leaf},
		{"trusted proxy, garbage", "10.1.2.3:5000", "garbage", false, src, nil},
		{"trusted proxy, RFC 9440 Client-Cert", "10.1.2.3:5000", ":" + base64.StdEncoding.EncodeToString(leaf.Raw) + ":", false, src, leaf},
		{"trusted proxy, RFC 9440 without closing colon", "10.1.2.3:5000", ":" + base64.StdEncoding.EncodeToString(leaf.Raw), false, src, nil},
		{"trusted proxy, no header, TLS certificate ignored", "10.1.2.3:5000", "", true, src, nil},
		{"untrusted peer", "192.0.2.1:5000", nginx, false, src, nil},
		{"untrusted peer over TLS", "192.0.2.1:5000", nginx, true, src, direct},
		{"no proxy configured", "10.1.2.3:5000", nginx, false, &ClientCertSource{}, nil},
		{"nil source over TLS", "10.1.2.3:5000", "", true, nil, direct},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/w/x/oauth2/token", nil)
			r.RemoteAddr = tc.remote
			if tc.header != "" {
				r.Header.Set("X-Client-Cert", tc.header)
			}
			if tc.tls {
				r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{direct}}
			}
			ctx := tc.src.Presented(context.Background(), r)
			got := PresentedCertificate(ctx)
			switch {
			case tc.want == nil && got != nil:
				t.Fatalf("got certificate %q, want none", got.Leaf.Subject)
			case tc.want != nil && (got == nil || !got.Leaf.Equal(tc.want)):
				t.Fatalf("got %v, want %q", got, tc.want.Subject)
			}
			if tc.src != nil && tc.src.Header != "" && r.Header.Get("X-Client-Cert") != "" {
				t.Fatal("proxy header left on the request")
			}
		})
	}
}

func TestCheckCertificateBinding(t *testing.T) {
	leaf, _ := certPEM(t, "bound")
	other, _ := certPEM(t, "other")
	cc := &ClientCertificate{Leaf: leaf}
	bound := map[string]any{"cnf": map[string]any{X5TConfirmation: cc.Thumbprint()}}
	with := func(c *x509.Certificate) context.Context {
		if c == nil {
			return context.Background()
		}
		return context.WithValue(context.Background(), clientCertKey{}, &ClientCertificate{Leaf: c})
	}
	if err := CheckCertificateBinding(with(leaf), bound); err != nil {
		t.Fatalf("same certificate: %v", err)
	}
	for name, ctx := range map[string]context.Context{"none": with(nil), "other": with(other)} {
		if err := CheckCertificateBinding(ctx, bound); err == nil || !strings.Contains(err.Error(), "invalid_token") {
			t.Fatalf("%s: %v, want invalid_token", name, err)
		}
	}
	if err := CheckCertificateBinding(with(nil), map[string]any{"cnf": map[string]any{"jkt": "x"}}); err != nil {
		t.Fatalf("DPoP-only cnf: %v", err)
	}
}

// FuzzClientCertHeader: whatever a proxy header holds, decoding it never
// panics and yields either nothing or a parsed certificate.
func FuzzClientCertHeader(f *testing.F) {
	_, p := certPEM(f, "seed")
	f.Add(url.QueryEscape(p))
	f.Add(strings.ReplaceAll(url.QueryEscape(p), "+", "%20"))
	f.Add("%")
	f.Add("-----BEGIN CERTIFICATE-----%0AAAAA%0A-----END CERTIFICATE-----")
	f.Fuzz(func(t *testing.T, v string) {
		if cc := fromHeader(v); cc != nil && (cc.Leaf == nil || !cc.ViaProxy) {
			t.Fatalf("decoded %+v", cc)
		}
	})
}
