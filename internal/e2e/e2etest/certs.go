package e2etest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"
)

// certKey is the RSA 2048 key of every SelfSignedCert: generating one
// takes 50-250 ms, and a client's certificates differ by their
// thumbprint (the default kid), not by their key.
var certKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// SelfSignedCert is the DER of a self-signed RSA 2048 certificate for
// Digital Signature with common name cn, valid from an hour ago until
// notAfter: what an administrator uploads for a client's JWT assertions.
func SelfSignedCert(t testing.TB, cn string, notAfter time.Time) []byte {
	t.Helper()
	key, err := certKey()
	if err != nil {
		t.Fatalf("RSA key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("certificate %s: %v", cn, err)
	}
	return der
}
