package keystore

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"
)

// Format names a key or certificate container.
type Format string

// The formats Load understands.
const (
	FormatPEM    Format = "PEM"
	FormatDER    Format = "DER"
	FormatPKCS12 Format = "PKCS#12"
	FormatJKS    Format = "JKS"
)

// MaxFileSize bounds what Load reads: key stores are a few KiB.
const MaxFileSize = 1 << 20

const (
	jksMagic   = 0xFEEDFEED
	jceksMagic = 0xCECECECE
)

// Options select an entry and unlock it. StorePassword protects a PKCS#12
// or JKS file; KeyPassword protects a JKS private key entry (keytool's
// -keypass) and defaults to StorePassword, as in keytool.
type Options struct {
	Alias         string
	StorePassword []byte
	KeyPassword   []byte
}

// Contents is what a file holds. Signer is nil for a certificate-only file;
// Certificate is nil for a bare key.
type Contents struct {
	Format      Format
	Alias       string
	Aliases     []string
	Signer      crypto.Signer
	Certificate *x509.Certificate
	Chain       []*x509.Certificate // further certificates (issuers), leaf excluded
}

// ErrWrongPassword is returned when a PKCS#12 or JKS file does not open
// with the given password.
var ErrWrongPassword = errors.New("keystore: wrong password, or the file is damaged")

// Load reads path and parses it with Parse.
func Load(path string, opts Options) (*Contents, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("keystore: %s is larger than %d bytes", path, MaxFileSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return Parse(data, opts)
}

// Parse detects the format of data (JKS by its magic number, PEM by its
// armour, otherwise DER certificate or key, otherwise PKCS#12) and returns
// its contents. When both a key and a certificate are present they must
// belong together.
func Parse(data []byte, opts Options) (*Contents, error) {
	var c *Contents
	var err error
	switch {
	case len(data) >= 4 && binary.BigEndian.Uint32(data) == jksMagic:
		c, err = parseJKS(data, opts)
	case len(data) >= 4 && binary.BigEndian.Uint32(data) == jceksMagic:
		return nil, errors.New("keystore: JCEKS key stores are not supported; convert with keytool -importkeystore -deststoretype PKCS12")
	case bytes.Contains(data, []byte("-----BEGIN ")):
		c, err = parsePEM(data)
	default:
		c, err = parseBinary(data, opts)
	}
	if err != nil {
		return nil, err
	}
	if err := c.CheckPair(); err != nil {
		return nil, err
	}
	return c, nil
}

// CheckPair reports an error when c has both a key and a certificate that
// do not belong together.
func (c *Contents) CheckPair() error {
	if c.Signer == nil || c.Certificate == nil {
		return nil
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	pub, ok := c.Signer.Public().(equaler)
	if !ok || !pub.Equal(c.Certificate.PublicKey) {
		return errors.New("keystore: the private key does not match the certificate's public key")
	}
	return nil
}

func parsePEM(data []byte) (*Contents, error) {
	c := &Contents{Format: FormatPEM}
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if err := c.addPEMBlock(b); err != nil {
			return nil, err
		}
	}
	if c.Signer == nil && c.Certificate == nil {
		return nil, errors.New("keystore: no private key or certificate in the PEM data")
	}
	return c, nil
}

func (c *Contents) addPEMBlock(b *pem.Block) error {
	if _, ok := b.Headers["Proc-Type"]; ok {
		return errors.New("keystore: legacy encrypted PEM keys are not supported; convert with: openssl pkcs8 -topk8 -nocrypt")
	}
	switch b.Type {
	case "CERTIFICATE":
		return c.addCertDER(b.Bytes)
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
		if c.Signer != nil {
			return errors.New("keystore: more than one private key in the PEM data")
		}
		s, err := parseKeyDER(b.Bytes)
		c.Signer = s
		return err
	case "ENCRYPTED PRIVATE KEY":
		return errors.New("keystore: encrypted PKCS#8 keys are not supported; use a PKCS#12 or JKS file, or decrypt with: openssl pkcs8 -in key.pem -out plain.pem")
	}
	return nil // other blocks (parameters, public keys) are ignored
}

func (c *Contents) addCertDER(der []byte) error {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("keystore: bad certificate: %w", err)
	}
	if c.Certificate == nil {
		c.Certificate = cert
	} else {
		c.Chain = append(c.Chain, cert)
	}
	return nil
}

// parseKeyDER accepts PKCS#8, PKCS#1 and SEC1 and keeps only key types
// that can sign JWTs.
func parseKeyDER(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return asSigner(k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("keystore: the private key is not PKCS#8, PKCS#1 or SEC1 DER")
}

func asSigner(k any) (crypto.Signer, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("keystore: unsupported private key type %T", k)
}

func parseBinary(data []byte, opts Options) (*Contents, error) {
	if cert, err := x509.ParseCertificate(data); err == nil {
		return &Contents{Format: FormatDER, Certificate: cert}, nil
	}
	if s, err := parseKeyDER(data); err == nil {
		return &Contents{Format: FormatDER, Signer: s}, nil
	}
	return parsePKCS12(data, opts)
}

func parsePKCS12(data []byte, opts Options) (*Contents, error) {
	key, cert, chain, err := pkcs12.DecodeChain(data, string(opts.StorePassword))
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return nil, ErrWrongPassword
	}
	if err != nil {
		// A trust store (certificates only) is still worth describing.
		if certs, terr := pkcs12.DecodeTrustStore(data, string(opts.StorePassword)); terr == nil && len(certs) > 0 {
			return &Contents{Format: FormatPKCS12, Certificate: certs[0], Chain: certs[1:]}, nil
		}
		return nil, fmt.Errorf("keystore: not a PEM, DER, PKCS#12 or JKS file (%v)", err)
	}
	s, err := asSigner(key)
	if err != nil {
		return nil, err
	}
	return &Contents{Format: FormatPKCS12, Signer: s, Certificate: cert, Chain: chain}, nil
}

func parseJKS(data []byte, opts Options) (*Contents, error) {
	ks := jks.New()
	if err := ks.Load(bytes.NewReader(data), opts.StorePassword); err != nil {
		return nil, ErrWrongPassword
	}
	aliases := ks.Aliases()
	sort.Strings(aliases)
	alias, err := chooseAlias(ks, aliases, opts.Alias)
	if err != nil {
		return nil, err
	}
	c := &Contents{Format: FormatJKS, Alias: alias, Aliases: aliases}
	if ks.IsTrustedCertificateEntry(alias) {
		e, err := ks.GetTrustedCertificateEntry(alias)
		if err != nil {
			return nil, fmt.Errorf("keystore: alias %q: %w", alias, err)
		}
		return c, c.addCertDER(e.Certificate.Content)
	}
	return c, c.loadJKSKey(ks, alias, opts)
}

func (c *Contents) loadJKSKey(ks jks.KeyStore, alias string, opts Options) error {
	pass := opts.KeyPassword
	if len(pass) == 0 {
		pass = opts.StorePassword
	}
	e, err := ks.GetPrivateKeyEntry(alias, pass)
	if err != nil {
		return fmt.Errorf("keystore: alias %q: cannot unlock the key entry (wrong key password?): %w", alias, err)
	}
	if c.Signer, err = parseKeyDER(e.PrivateKey); err != nil {
		return err
	}
	for _, cert := range e.CertificateChain {
		if err := c.addCertDER(cert.Content); err != nil {
			return err
		}
	}
	return nil
}

// chooseAlias returns the requested alias, or the only key entry when none
// was requested (keytool's usual one-key store).
func chooseAlias(ks jks.KeyStore, aliases []string, want string) (string, error) {
	if want != "" {
		for _, a := range aliases {
			if strings.EqualFold(a, want) {
				return a, nil
			}
		}
		return "", fmt.Errorf("keystore: no alias %q (aliases: %s)", want, strings.Join(aliases, ", "))
	}
	var keys []string
	for _, a := range aliases {
		if ks.IsPrivateKeyEntry(a) {
			keys = append(keys, a)
		}
	}
	switch {
	case len(keys) == 1:
		return keys[0], nil
	case len(keys) == 0 && len(aliases) > 0:
		return aliases[0], nil
	case len(keys) == 0:
		return "", errors.New("keystore: the key store is empty")
	}
	return "", fmt.Errorf("keystore: several key entries, choose one with --alias (aliases: %s)", strings.Join(keys, ", "))
}
