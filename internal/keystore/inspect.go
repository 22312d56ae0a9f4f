package keystore

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Upload rule thresholds, the same as the server's certificate upload
// checks for the JWT bearer grant.
const (
	MinRSABits    = 2048
	ExpiryWarning = 30 * 24 * time.Hour
)

// Report describes a key file for a person (keys inspect) and for scripts
// (its JSON form).
type Report struct {
	Format        Format          `json:"format"`
	Alias         string          `json:"alias,omitempty"`
	Aliases       []string        `json:"aliases,omitempty"`
	HasPrivateKey bool            `json:"has_private_key"`
	KeyType       string          `json:"key_type"`
	Algorithm     string          `json:"alg"`
	Certificate   *CertInfo       `json:"certificate,omitempty"`
	ChainLength   int             `json:"chain_length,omitempty"`
	JWK           json.RawMessage `json:"jwk"`
	// Problems break the upload rules; Warnings do not (yet).
	Problems []string `json:"problems"`
	Warnings []string `json:"warnings"`
}

// CertInfo is what an administrator compares before uploading.
type CertInfo struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	KeyUsage  []string  `json:"key_usage,omitempty"`
	X5TS256   string    `json:"x5t#S256"`
}

// Inspect loads path and describes it; see Describe.
func Inspect(path string, opts Options, now time.Time) (*Report, error) {
	c, err := Load(path, opts)
	if err != nil {
		return nil, err
	}
	return Describe(c, now)
}

// Describe reports what c holds, its public JWK (kid = x5t#S256 when a
// certificate is present) and how it fares against the upload rules.
func Describe(c *Contents, now time.Time) (*Report, error) {
	pub, err := c.PublicKey()
	if err != nil {
		return nil, err
	}
	jwk, err := c.PublicJWK(c.DefaultKID())
	if err != nil {
		return nil, err
	}
	raw, err := jwk.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	r := &Report{
		Format: c.Format, Alias: c.Alias, Aliases: c.Aliases, HasPrivateKey: c.Signer != nil,
		KeyType: KeyDescription(pub), Algorithm: jwk.Algorithm, ChainLength: len(c.Chain), JWK: raw,
		Problems: KeyProblems(pub), Warnings: []string{},
	}
	if c.Certificate != nil {
		r.Certificate = certInfo(c.Certificate)
		p, w := CertificateProblems(c.Certificate, now)
		r.Problems = append(r.Problems, p...)
		r.Warnings = append(r.Warnings, w...)
	} else {
		r.Warnings = append(r.Warnings, "no certificate: servers that take uploaded certificates need one (latchkey keys new makes one)")
	}
	return r, nil
}

func certInfo(cert *x509.Certificate) *CertInfo {
	return &CertInfo{
		Subject: cert.Subject.String(), Issuer: cert.Issuer.String(), Serial: cert.SerialNumber.Text(16),
		NotBefore: cert.NotBefore.UTC(), NotAfter: cert.NotAfter.UTC(), KeyUsage: keyUsageNames(cert.KeyUsage),
		X5TS256: X5TS256(cert),
	}
}

// KeyDescription is "RSA 2048", "EC P-256" or "Ed25519".
func KeyDescription(pub any) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "EC " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

// KeyProblems applies the key rule: RSA of at least 2048 bits, or EC
// P-256/P-384.
func KeyProblems(pub any) []string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < MinRSABits {
			return []string{fmt.Sprintf("RSA key of %d bits: at least %d are required", k.N.BitLen(), MinRSABits)}
		}
		return []string{}
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() || k.Curve == elliptic.P384() {
			return []string{}
		}
		return []string{"EC curve " + k.Curve.Params().Name + ": only P-256 and P-384 are accepted"}
	}
	return []string{fmt.Sprintf("%s keys are not accepted: use RSA (2048 bits or more) or EC P-256/P-384", KeyDescription(pub))}
}

// CertificateProblems applies the certificate rules: Digital Signature in
// Key Usage when the extension is present (RFC 5280 §4.2.1.3), currently
// valid; a certificate expiring within 30 days is a warning.
func CertificateProblems(cert *x509.Certificate, now time.Time) (problems, warnings []string) {
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		problems = append(problems, "the Key Usage extension does not include Digital Signature")
	}
	switch {
	case now.Before(cert.NotBefore):
		problems = append(problems, "the certificate is not valid yet (not before "+cert.NotBefore.UTC().Format(time.RFC3339)+")")
	case now.After(cert.NotAfter):
		problems = append(problems, "the certificate expired on "+cert.NotAfter.UTC().Format(time.RFC3339))
	case cert.NotAfter.Sub(now) < ExpiryWarning:
		warnings = append(warnings, "the certificate expires within 30 days ("+cert.NotAfter.UTC().Format(time.RFC3339)+")")
	}
	return problems, warnings
}

var keyUsages = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "Digital Signature"},
	{x509.KeyUsageContentCommitment, "Non Repudiation"},
	{x509.KeyUsageKeyEncipherment, "Key Encipherment"},
	{x509.KeyUsageDataEncipherment, "Data Encipherment"},
	{x509.KeyUsageKeyAgreement, "Key Agreement"},
	{x509.KeyUsageCertSign, "Certificate Sign"},
	{x509.KeyUsageCRLSign, "CRL Sign"},
	{x509.KeyUsageEncipherOnly, "Encipher Only"},
	{x509.KeyUsageDecipherOnly, "Decipher Only"},
}

func keyUsageNames(ku x509.KeyUsage) []string {
	var out []string
	for _, u := range keyUsages {
		if ku&u.bit != 0 {
			out = append(out, u.name)
		}
	}
	return out
}

// Text renders r for a terminal.
func (r *Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Format:       %s\n", r.Format)
	if r.Alias != "" {
		fmt.Fprintf(&b, "Alias:        %s (entries: %s)\n", r.Alias, strings.Join(r.Aliases, ", "))
	}
	fmt.Fprintf(&b, "Private key:  %t\nKey:          %s (%s)\n", r.HasPrivateKey, r.KeyType, r.Algorithm)
	if c := r.Certificate; c != nil {
		fmt.Fprintf(&b, "Subject:      %s\nIssuer:       %s\nSerial:       %s\n", c.Subject, c.Issuer, c.Serial)
		fmt.Fprintf(&b, "Valid:        %s to %s\n", c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339))
		fmt.Fprintf(&b, "Key usage:    %s\nx5t#S256:     %s\n", orNone(strings.Join(c.KeyUsage, ", ")), c.X5TS256)
	}
	if r.ChainLength > 0 {
		fmt.Fprintf(&b, "Chain:        %d more certificate(s)\n", r.ChainLength)
	}
	fmt.Fprintf(&b, "JWK:          %s\n", r.JWK)
	writeList(&b, "Upload rules: ", "OK", r.Problems)
	writeList(&b, "Warnings:     ", "none", r.Warnings)
	return b.String()
}

func writeList(b *strings.Builder, label, empty string, items []string) {
	if len(items) == 0 {
		fmt.Fprintf(b, "%s%s\n", label, empty)
		return
	}
	for i, it := range items {
		if i == 0 {
			fmt.Fprintf(b, "%s%s\n", label, it)
			continue
		}
		fmt.Fprintf(b, "%s%s\n", strings.Repeat(" ", len(label)), it)
	}
}

func orNone(s string) string {
	if s == "" {
		return "(no Key Usage extension)"
	}
	return s
}
