package rs

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net/http/httptest"
	"testing"
)

// TestCertificateBinding: a token with cnf.x5t#S256 (RFC 8705 §3.1) is
// accepted only over TLS with the client certificate of that SHA-256
// thumbprint (Latchkey does not issue such tokens yet; other issuers'
// tokens or a later Latchkey may carry it).
func TestCertificateBinding(t *testing.T) {
	v, err := New(Options{Issuer: "https://lk.example/w/acme", Audience: "https://api.example"})
	if err != nil {
		t.Fatal(err)
	}
	cert := &x509.Certificate{Raw: []byte("client certificate DER")}
	sum := sha256.Sum256(cert.Raw)
	bound := &Token{Raw: "t", Claims: map[string]any{"cnf": map[string]any{"x5t#S256": base64.RawURLEncoding.EncodeToString(sum[:])}}}
	other := &Token{Raw: "t", Claims: map[string]any{"cnf": map[string]any{"x5t#S256": "AAAA"}}}

	withCert := httptest.NewRequest("GET", "https://api.example/orders", nil)
	withCert.Header.Set("Authorization", "Bearer t")
	withCert.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	noTLS := httptest.NewRequest("GET", "http://api.example/orders", nil)
	noTLS.Header.Set("Authorization", "Bearer t")

	if err := v.checkBinding(withCert, bound); err != nil {
		t.Fatalf("matching certificate: %v", err)
	}
	if err := v.checkBinding(withCert, other); err == nil {
		t.Fatal("another certificate's token accepted")
	}
	if err := v.checkBinding(noTLS, bound); err == nil {
		t.Fatal("certificate-bound token accepted without TLS")
	}
	if err := v.checkBinding(noTLS, &Token{Raw: "t", Claims: map[string]any{}}); err != nil {
		t.Fatalf("unbound bearer token: %v", err)
	}
}
