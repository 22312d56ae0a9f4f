package keystore

import (
	"crypto/sha1" // #nosec G505 -- x5t (RFC 7515 §4.1.7) is defined as SHA-1; it names a certificate, it protects nothing.
	"crypto/x509"
)

func sha1Thumb(cert *x509.Certificate) []byte {
	s := sha1.Sum(cert.Raw)
	return s[:]
}
