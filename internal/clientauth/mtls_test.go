package clientauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/storage"
)

func testCert(t *testing.T, tmpl *x509.Certificate) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(1)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// TestSubjectMatches covers RFC 8705 §2.1.2: the one registered subject
// value against the certificate's subject DN or subjectAltName entries.
func TestSubjectMatches(t *testing.T) {
	u, _ := url.Parse("spiffe://example.org/app")
	cert, _ := testCert(t, &x509.Certificate{
		Subject:  pkix.Name{CommonName: "app", Organization: []string{"Example Org"}, Country: []string{"US"}},
		DNSNames: []string{"app.example.org"}, URIs: []*url.URL{u}, IPAddresses: []net.IP{net.ParseIP("192.0.2.7")},
		EmailAddresses: []string{"ops@Example.org"},
	})
	for _, tc := range []struct {
		name string
		c    storage.Client
		want bool
	}{
		{"DN exact", storage.Client{TLSClientAuthSubjectDN: "CN=app,O=Example Org,C=US"}, true},
		{"DN spaces and case", storage.Client{TLSClientAuthSubjectDN: "cn=app, o=example org, c=us"}, true},
		{"DN other order", storage.Client{TLSClientAuthSubjectDN: "C=US,O=Example Org,CN=app"}, false},
		{"DN missing RDN", storage.Client{TLSClientAuthSubjectDN: "CN=app,O=Example Org"}, false},
		{"DN other CN", storage.Client{TLSClientAuthSubjectDN: "CN=other,O=Example Org,C=US"}, false},
		{"SAN DNS", storage.Client{TLSClientAuthSANDNS: "APP.example.org"}, true},
		{"SAN DNS other", storage.Client{TLSClientAuthSANDNS: "example.org"}, false},
		{"SAN URI", storage.Client{TLSClientAuthSANURI: "spiffe://example.org/app"}, true},
		{"SAN URI prefix only", storage.Client{TLSClientAuthSANURI: "spiffe://example.org"}, false},
		{"SAN IP", storage.Client{TLSClientAuthSANIP: "192.0.2.7"}, true},
		{"SAN IP mapped", storage.Client{TLSClientAuthSANIP: "::ffff:192.0.2.7"}, true},
		{"SAN IP other", storage.Client{TLSClientAuthSANIP: "192.0.2.8"}, false},
		{"SAN email domain case", storage.Client{TLSClientAuthSANEmail: "ops@example.ORG"}, true},
		{"SAN email local case", storage.Client{TLSClientAuthSANEmail: "OPS@example.org"}, false},
		{"nothing registered", storage.Client{}, false},
		{"DN registered, SAN DNS value in DN form", storage.Client{TLSClientAuthSubjectDN: "app.example.org"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := SubjectMatches(cert, tc.c)
			if got != tc.want {
				t.Fatalf("SubjectMatches = %v, want %v (certificate subject %q)", got, tc.want, cert.Subject.String())
			}
		})
	}
}

// TestCertInKeys: self_signed_tls_client_auth matches the certificate
// itself (x5c) or its public key, never an encryption key (RFC 8705 §2.2).
func TestCertInKeys(t *testing.T) {
	cert, key := testCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "self"}})
	other, otherKey := testCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "other"}})
	for _, tc := range []struct {
		name string
		keys []jose.JSONWebKey
		want bool
	}{
		{"public key", []jose.JSONWebKey{{Key: &key.PublicKey, Use: "sig"}}, true},
		{"x5c certificate", []jose.JSONWebKey{{Key: &key.PublicKey, Certificates: []*x509.Certificate{cert}}}, true},
		{"other key", []jose.JSONWebKey{{Key: &otherKey.PublicKey}}, false},
		{"other certificate of other key", []jose.JSONWebKey{{Key: &otherKey.PublicKey, Certificates: []*x509.Certificate{other}}}, false},
		{"encryption key", []jose.JSONWebKey{{Key: &key.PublicKey, Use: "enc"}}, false},
		{"no keys", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := certInKeys(cert, tc.keys); got != tc.want {
				t.Fatalf("certInKeys = %v, want %v", got, tc.want)
			}
		})
	}
}
