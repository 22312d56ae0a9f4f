package keystore

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// GenerateOptions describe a new key pair and its self-signed certificate.
type GenerateOptions struct {
	Type    string // "rsa" (default) or "ec"
	Bits    int    // RSA size, default and minimum 2048
	Curve   string // EC curve: "P-256" (default) or "P-384"
	Subject pkix.Name
	Days    int // validity, default 365
	Now     time.Time
}

// Generate makes a key pair and a self-signed certificate with the Digital
// Signature key usage (what JWT bearer servers require of uploaded
// certificates), valid from one minute ago (clock skew) for Days days.
func Generate(o GenerateOptions) (*Contents, error) {
	signer, err := newKey(o)
	if err != nil {
		return nil, err
	}
	cert, err := selfSign(signer, o)
	if err != nil {
		return nil, err
	}
	return &Contents{Format: FormatPEM, Signer: signer, Certificate: cert}, nil
}

func newKey(o GenerateOptions) (crypto.Signer, error) {
	switch strings.ToLower(o.Type) {
	case "", "rsa":
		bits := o.Bits
		if bits == 0 {
			bits = MinRSABits
		}
		if bits < MinRSABits || bits > 8192 {
			return nil, fmt.Errorf("keystore: RSA size %d: choose 2048 to 8192 bits", bits)
		}
		return rsa.GenerateKey(rand.Reader, bits)
	case "ec":
		curve, err := curveByName(o.Curve)
		if err != nil {
			return nil, err
		}
		return ecdsa.GenerateKey(curve, rand.Reader)
	}
	return nil, fmt.Errorf("keystore: key type %q: choose rsa or ec", o.Type)
}

func curveByName(name string) (elliptic.Curve, error) {
	switch strings.ToUpper(name) {
	case "", "P-256", "P256":
		return elliptic.P256(), nil
	case "P-384", "P384":
		return elliptic.P384(), nil
	}
	return nil, fmt.Errorf("keystore: curve %q: choose P-256 or P-384", name)
}

func selfSign(signer crypto.Signer, o GenerateOptions) (*x509.Certificate, error) {
	days := o.Days
	if days == 0 {
		days = 365
	}
	if days < 1 || days > 3650*3 {
		return nil, fmt.Errorf("keystore: validity of %d days: choose 1 to 10950", days)
	}
	if len(o.Subject.Names) == 0 && o.Subject.CommonName == "" {
		return nil, errors.New("keystore: the certificate needs a subject, e.g. CN=my-integration")
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: o.Subject, Issuer: o.Subject,
		NotBefore: now.Add(-time.Minute).UTC(), NotAfter: now.Add(time.Duration(days) * 24 * time.Hour).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		SubjectKeyId:          subjectKeyID(signer.Public()),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return x509.ParseCertificate(der)
}

func subjectKeyID(pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(der)
	return sum[:20]
}

// ParseSubject reads a distinguished name as keytool's -dname and openssl's
// -subj write it: "CN=app,OU=Integration,O=Example,L=City,ST=State,C=US"
// (commas or slashes between parts; "\," escapes a comma).
func ParseSubject(s string) (pkix.Name, error) {
	var n pkix.Name
	parts := splitDN(strings.TrimPrefix(strings.TrimSpace(s), "/"))
	for _, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		k, v = strings.ToUpper(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok || v == "" {
			return n, fmt.Errorf("keystore: subject part %q: want KEY=value", p)
		}
		if err := setDNPart(&n, k, v); err != nil {
			return n, err
		}
	}
	if n.CommonName == "" && len(n.Organization) == 0 {
		return n, errors.New("keystore: the subject needs at least CN= or O=")
	}
	return n, nil
}

func setDNPart(n *pkix.Name, k, v string) error {
	switch k {
	case "CN":
		n.CommonName = v
	case "O":
		n.Organization = append(n.Organization, v)
	case "OU":
		n.OrganizationalUnit = append(n.OrganizationalUnit, v)
	case "L":
		n.Locality = append(n.Locality, v)
	case "ST", "S":
		n.Province = append(n.Province, v)
	case "C":
		n.Country = append(n.Country, v)
	case "STREET":
		n.StreetAddress = append(n.StreetAddress, v)
	case "POSTALCODE":
		n.PostalCode = append(n.PostalCode, v)
	default:
		return fmt.Errorf("keystore: subject attribute %q: use CN, O, OU, L, ST, C, STREET or POSTALCODE", k)
	}
	return nil
}

func splitDN(s string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case s[i] == ',' || s[i] == '/':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	if cur.Len() > 0 || len(parts) > 0 {
		parts = append(parts, cur.String())
	}
	return parts
}
