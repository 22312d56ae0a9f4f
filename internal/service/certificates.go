package service

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// Certificate limits.
const (
	// MaxCertificateSize caps an upload (PEM or DER).
	MaxCertificateSize = 64 << 10
	// MaxCertificatesPerClient bounds the keys tried per assertion.
	MaxCertificatesPerClient = 20
	// CertificateExpiryWarning: a certificate expiring sooner gets a warning.
	CertificateExpiryWarning = 30 * 24 * time.Hour
	minCertRSABits           = 2048
	maxCertRSABits           = 8192
)

// kidPattern keeps admin-chosen kids printable and bounded (SECURITY.md A4).
var kidPattern = lazyRegexp(`^[A-Za-z0-9._~:+/=-]{1,128}$`)

// Audit actions and target of the directory.
const (
	AuditCertificateAdd    = "client.certificate.add"
	AuditCertificateRemove = "client.certificate.remove"
	AuditClientJWTBearer   = "client.jwt_bearer.update"
	AuditUserCreate        = "user.create"
	AuditUserUpdate        = "user.update"
	AuditUserDelete        = "user.delete"
	AuditProfileCreate     = "profile.create"
	AuditProfileUpdate     = "profile.update"
	AuditProfileDelete     = "profile.delete"
	AuditIssuerCreate      = "trusted_issuer.create"
	AuditIssuerUpdate      = "trusted_issuer.update"
	AuditIssuerDelete      = "trusted_issuer.delete"
	TargetUser             = "user"
	TargetProfile          = "profile"
	TargetTrustedIssuer    = "trusted_issuer"
)

// CertificateView is a stored certificate as the API and console show it.
type CertificateView struct {
	storage.ClientCertificate
	// KeyType is e.g. "RSA 2048" or "EC P-256".
	KeyType string
	// Warning is set when the certificate expires within 30 days or has expired.
	Warning string
}

// certError is a certificate upload refused for one named reason: a 400
// with the field "certificate" and a message naming what is wrong.
func certError(format string, args ...any) error {
	return &ValidationError{Errors: []FieldError{{Field: "certificate", Rule: "certificate", Message: fmt.Sprintf(format, args...)}}}
}

// ParseCertificate decodes an uploaded X.509 certificate (PEM, a .crt/.cer
// in PEM or DER, or raw DER) and checks the upload rules (README "Keys and certificates"), each
// refusal with its own message: a certificate (not a private key or
// garbage), RSA ≥ 2048 bits or EC P-256/P-384, Digital Signature in the Key
// Usage extension when there is one, not expired. now decides expiry.
func ParseCertificate(data []byte, now time.Time) (*x509.Certificate, error) {
	if len(data) == 0 {
		return nil, certError("certificate is empty")
	}
	if len(data) > MaxCertificateSize {
		return nil, certError("certificate is larger than %d bytes", MaxCertificateSize)
	}
	der, err := certificateDER(data)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, certError("certificate cannot be parsed as X.509 DER")
	}
	if err := checkCertKey(cert); err != nil {
		return nil, err
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return nil, certError("certificate key usage does not include Digital Signature")
	}
	if now.After(cert.NotAfter) {
		return nil, certError("certificate expired on %s", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return cert, nil
}

// certificateDER finds the certificate in PEM (the first CERTIFICATE
// block) or takes data as DER. Private keys are refused by name, so an
// admin who uploads the wrong file learns which file to pick.
func certificateDER(data []byte) ([]byte, error) {
	trimmed := strings.TrimSpace(string(data))
	if !strings.HasPrefix(trimmed, "-----BEGIN") {
		if looksLikeDERPrivateKey(data) {
			return nil, certError("this is a private key, not a certificate: upload the certificate only")
		}
		return data, nil
	}
	rest := []byte(trimmed)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, certError("no CERTIFICATE block found in the PEM data")
		}
		switch {
		case block.Type == "CERTIFICATE":
			return block.Bytes, nil
		case strings.Contains(block.Type, "PRIVATE KEY"):
			return nil, certError("this is a private key, not a certificate: upload the certificate only")
		}
	}
}

func looksLikeDERPrivateKey(der []byte) bool {
	if _, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return true
	}
	if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return true
	}
	_, err := x509.ParseECPrivateKey(der)
	return err == nil
}

// checkCertKey enforces the key rules (FAPI 2.0 Security Profile §5.4.1
// items 2 and 3, SECURITY.md A15).
func checkCertKey(cert *x509.Certificate) error {
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		if bits < minCertRSABits {
			return certError("RSA key is %d bits; at least %d bits are required", bits, minCertRSABits)
		}
		if bits > maxCertRSABits {
			return certError("RSA key is %d bits; at most %d bits are supported", bits, maxCertRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return certError("EC key uses curve %s; only P-256 and P-384 are supported", k.Curve.Params().Name)
		}
		return nil
	}
	return certError("certificate key type %s is not supported; use RSA (2048 bits or more) or EC P-256/P-384", cert.PublicKeyAlgorithm)
}

// Thumbprint is the x5t#S256 of a certificate (RFC 7515 §4.1.8).
func Thumbprint(der []byte) string {
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func keyType(cert *x509.Certificate) string {
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "EC " + k.Curve.Params().Name
	}
	return cert.PublicKeyAlgorithm.String()
}

// NewCertificateView describes a stored certificate, with the expiry
// warning of the upload rules at now.
func NewCertificateView(c storage.ClientCertificate, now time.Time) CertificateView {
	v := CertificateView{ClientCertificate: c}
	if cert, err := x509.ParseCertificate(c.DER); err == nil {
		v.KeyType = keyType(cert)
	}
	switch left := c.NotAfter.Sub(now); {
	case left <= 0:
		v.Warning = "certificate has expired"
	case left <= CertificateExpiryWarning:
		v.Warning = fmt.Sprintf("certificate expires in %d days", int(left.Hours()/24))
	}
	return v
}

// AddClientCertificate validates an uploaded certificate and stores it on
// the client. kid "" means the certificate's x5t#S256 thumbprint.
func (s *Service) AddClientCertificate(ctx context.Context, wsID, clientID string, data []byte, kid string) (CertificateView, error) {
	if _, err := s.GetClient(ctx, wsID, clientID); err != nil {
		return CertificateView{}, err
	}
	now := s.now()
	cert, err := ParseCertificate(data, now)
	if err != nil {
		return CertificateView{}, err
	}
	thumb := Thumbprint(cert.Raw)
	if kid == "" {
		kid = thumb
	}
	if !kidPattern.MatchString(kid) {
		return CertificateView{}, &ValidationError{Errors: []FieldError{{Field: "kid", Rule: "pattern",
			Message: "kid: must be 1-128 letters, digits or '.', '_', '~', ':', '+', '/', '=', '-'"}}}
	}
	existing, err := s.Store.ListClientCertificates(ctx, wsID, clientID)
	if err != nil {
		return CertificateView{}, err
	}
	if len(existing) >= MaxCertificatesPerClient {
		return CertificateView{}, conflict(nil, "client %q already has %d certificates; remove one first", clientID, MaxCertificatesPerClient)
	}
	c := storage.ClientCertificate{
		WorkspaceID: wsID, ClientID: clientID, KID: kid, DER: cert.Raw,
		Subject: cert.Subject.String(), Issuer: cert.Issuer.String(), Serial: cert.SerialNumber.Text(16),
		NotBefore: cert.NotBefore.UTC(), NotAfter: cert.NotAfter.UTC(), ThumbprintS256: thumb, CreatedAt: now,
	}
	if err := s.Store.CreateClientCertificate(ctx, c); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return CertificateView{}, conflict(err, "client %q already has a certificate with kid %q", clientID, kid)
		}
		return CertificateView{}, mapStore(err, "client", clientID)
	}
	s.audit(ctx, wsID, AuditCertificateAdd, TargetClient, clientID, map[string]any{"kid": kid, "thumbprint": thumb})
	return NewCertificateView(c, now), nil
}

// ListClientCertificates returns the client's certificates with warnings.
func (s *Service) ListClientCertificates(ctx context.Context, wsID, clientID string) ([]CertificateView, error) {
	if _, err := s.GetClient(ctx, wsID, clientID); err != nil {
		return nil, err
	}
	certs, err := s.Store.ListClientCertificates(ctx, wsID, clientID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]CertificateView, len(certs))
	for i, c := range certs {
		out[i] = NewCertificateView(c, now)
	}
	return out, nil
}

// RemoveClientCertificate deletes one certificate of a client.
func (s *Service) RemoveClientCertificate(ctx context.Context, wsID, clientID, kid string) error {
	if err := s.Store.DeleteClientCertificate(ctx, wsID, clientID, kid); err != nil {
		return mapStore(err, "certificate", kid)
	}
	s.audit(ctx, wsID, AuditCertificateRemove, TargetClient, clientID, map[string]any{"kid": kid})
	return nil
}
