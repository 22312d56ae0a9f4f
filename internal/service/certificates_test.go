package service

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

func testCert(t testing.TB, notAfter time.Time, usage x509.KeyUsage) []byte {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, KeyUsage: usage}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// FuzzParseCertificate: any upload yields a certificate or a 400 with a
// message, never a panic; accepted certificates satisfy the rules.
func FuzzParseCertificate(f *testing.F) {
	der := testCert(f, time.Now().Add(time.Hour), 0)
	f.Add(der)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN"))
	f.Add([]byte{0x30, 0x82, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		now := time.Now()
		cert, err := ParseCertificate(data, now)
		if err != nil {
			if PublicMessage(err) == "" {
				t.Fatalf("refusal without a public message: %v", err)
			}
			return
		}
		if now.After(cert.NotAfter) || (cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageDigitalSignature == 0) {
			t.Fatalf("accepted a certificate that breaks the rules: %+v", cert)
		}
	})
}

func TestCertificateViewWarning(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		left time.Duration
		want string
	}{
		{60 * 24 * time.Hour, ""},
		{10 * 24 * time.Hour, "certificate expires in 10 days"},
		{-time.Hour, "certificate has expired"},
	} {
		der := testCert(t, now.Add(tc.left), 0)
		v := NewCertificateView(storage.ClientCertificate{DER: der, NotAfter: now.Add(tc.left)}, now)
		if !strings.HasPrefix(v.Warning, tc.want) || (tc.want == "" && v.Warning != "") || v.KeyType != "EC P-256" {
			t.Fatalf("%s: warning %q key %q", tc.left, v.Warning, v.KeyType)
		}
	}
}
