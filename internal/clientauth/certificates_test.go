package clientauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// certificatePublicKey parses a certificate once and then answers from
// memory with the same key; bytes that are no certificate give no key.
func TestCertificatePublicKey(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "keys-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // parsed, then cached
		key, ok := certificatePublicKey(der)
		if pub, isEC := key.(*ecdsa.PublicKey); !ok || !isEC || !pub.Equal(priv.Public()) {
			t.Fatalf("call %d: key %v ok %v, want the certificate's key", i, key, ok)
		}
	}
	parsedKeys.RLock()
	_, ok := parsedKeys.m[string(der)]
	parsedKeys.RUnlock()
	if !ok {
		t.Error("the parsed key was not remembered")
	}
	if key, ok := certificatePublicKey([]byte("not a certificate")); ok || key != nil {
		t.Errorf("garbage gave key %v", key)
	}
}
