package keystore

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// X5TS256 is the "x5t#S256" thumbprint of cert (RFC 7515 §4.1.8): the
// base64url (unpadded) SHA-256 of the DER certificate. Servers commonly use
// it as the kid of an uploaded certificate.
func X5TS256(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// DefaultAlgorithm is the JWS algorithm used for a key when none is chosen:
// RS256 for RSA (what every server accepts), ES256/ES384/ES512 by curve,
// EdDSA for Ed25519.
func DefaultAlgorithm(pub crypto.PublicKey) (jose.SignatureAlgorithm, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return jose.RS256, nil
	case *ecdsa.PublicKey:
		return ecAlgorithm(k.Curve)
	case ed25519.PublicKey:
		return jose.EdDSA, nil
	}
	return "", fmt.Errorf("keystore: unsupported public key type %T", pub)
}

func ecAlgorithm(c elliptic.Curve) (jose.SignatureAlgorithm, error) {
	switch c {
	case elliptic.P256():
		return jose.ES256, nil
	case elliptic.P384():
		return jose.ES384, nil
	case elliptic.P521():
		return jose.ES512, nil
	}
	return "", fmt.Errorf("keystore: unsupported curve %s", c.Params().Name)
}

// CheckAlgorithm refuses an algorithm that does not fit the key (RFC 8725
// §3.1: each key is used with the algorithms of its type only).
func CheckAlgorithm(pub crypto.PublicKey, alg jose.SignatureAlgorithm) error {
	def, err := DefaultAlgorithm(pub)
	if err != nil {
		return err
	}
	_, isRSA := pub.(*rsa.PublicKey)
	switch {
	case alg == def:
		return nil
	case isRSA && (alg == jose.RS384 || alg == jose.RS512 || alg == jose.PS256 || alg == jose.PS384 || alg == jose.PS512):
		return nil
	}
	return fmt.Errorf("keystore: algorithm %s does not fit this %s key", alg, def)
}

// PublicJWK is the public JWK of c: its key, kid, alg, use "sig" and, when
// a certificate is present, x5c and both thumbprints. It never holds
// private members.
func (c *Contents) PublicJWK(kid string) (jose.JSONWebKey, error) {
	pub, err := c.PublicKey()
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	alg, err := DefaultAlgorithm(pub)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	jwk := jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: string(alg), Use: "sig"}
	if c.Certificate != nil {
		jwk.Certificates = append([]*x509.Certificate{c.Certificate}, c.Chain...)
		s1 := sha1Thumb(c.Certificate)
		s256 := sha256.Sum256(c.Certificate.Raw)
		jwk.CertificateThumbprintSHA1 = s1
		jwk.CertificateThumbprintSHA256 = s256[:]
	}
	return jwk, nil
}

// PublicKey is the key's public half, from the private key or else the
// certificate.
func (c *Contents) PublicKey() (crypto.PublicKey, error) {
	switch {
	case c.Signer != nil:
		return c.Signer.Public(), nil
	case c.Certificate != nil:
		return c.Certificate.PublicKey, nil
	}
	return nil, fmt.Errorf("keystore: no key")
}

// DefaultKID is the kid to put in a JWS header for this key: the
// certificate's x5t#S256 when there is a certificate, else empty (no kid),
// since a bare key has no name the server could know.
func (c *Contents) DefaultKID() string {
	if c.Certificate == nil {
		return ""
	}
	return X5TS256(c.Certificate)
}
