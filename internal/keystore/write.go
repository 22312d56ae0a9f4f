package keystore

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"
)

// MinPasswordLen is keytool's minimum store and key password length; JKS
// and PKCS#12 files are written only with passwords keytool would accept.
const MinPasswordLen = 6

// EncodeKeyPEM is the private key as unencrypted PKCS#8 PEM ("PRIVATE
// KEY"), the form openssl 3 writes and every library reads.
func (c *Contents) EncodeKeyPEM() ([]byte, error) {
	if c.Signer == nil {
		return nil, errors.New("keystore: no private key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(c.Signer)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// EncodeCertPEM is the certificate (then the chain) as PEM.
func (c *Contents) EncodeCertPEM() ([]byte, error) {
	if c.Certificate == nil {
		return nil, errors.New("keystore: no certificate")
	}
	var b bytes.Buffer
	for _, cert := range append([]*x509.Certificate{c.Certificate}, c.Chain...) {
		if err := pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}); err != nil {
			return nil, fmt.Errorf("keystore: %w", err)
		}
	}
	return b.Bytes(), nil
}

// EncodePKCS12 writes key and chain with modern algorithms (PBES2 AES-256,
// SHA-256 MAC), which openssl 3 and Java 8u301+/11.0.12+ read.
func (c *Contents) EncodePKCS12(password []byte) ([]byte, error) {
	if c.Signer == nil || c.Certificate == nil {
		return nil, errors.New("keystore: PKCS#12 needs a private key and a certificate")
	}
	if len(password) < MinPasswordLen {
		return nil, fmt.Errorf("keystore: the store password must have at least %d characters", MinPasswordLen)
	}
	return pkcs12.Modern2023.WithRand(rand.Reader).Encode(c.Signer, c.Certificate, c.Chain, string(password))
}

// EncodeJKS writes a Java KeyStore holding one private key entry under
// alias, the store protected by storePass and the entry by keyPass
// (keytool's -storepass and -keypass; keyPass empty = storePass).
func (c *Contents) EncodeJKS(alias string, storePass, keyPass []byte, now time.Time) ([]byte, error) {
	if c.Signer == nil || c.Certificate == nil {
		return nil, errors.New("keystore: JKS needs a private key and a certificate")
	}
	if len(keyPass) == 0 {
		keyPass = storePass
	}
	if len(storePass) < MinPasswordLen || len(keyPass) < MinPasswordLen {
		return nil, fmt.Errorf("keystore: JKS passwords must have at least %d characters", MinPasswordLen)
	}
	der, err := x509.MarshalPKCS8PrivateKey(c.Signer)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	ks := jks.New()
	entry := jks.PrivateKeyEntry{CreationTime: now, PrivateKey: der, CertificateChain: c.jksChain()}
	if err := ks.SetPrivateKeyEntry(alias, entry, keyPass); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	var b bytes.Buffer
	if err := ks.Store(&b, storePass); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return b.Bytes(), nil
}

func (c *Contents) jksChain() []jks.Certificate {
	var out []jks.Certificate
	for _, cert := range append([]*x509.Certificate{c.Certificate}, c.Chain...) {
		out = append(out, jks.Certificate{Type: "X509", Content: cert.Raw})
	}
	return out
}

// WriteOptions name the files of WriteAll.
type WriteOptions struct {
	Dir, Name, Alias   string
	StorePass, KeyPass []byte
	Now                time.Time
	Overwrite          bool
}

// WriteAll writes <name>.key (PKCS#8 PEM, 0600), <name>.pem (certificate
// PEM), <name>.crt (certificate DER), <name>.p12 and <name>.jks (both
// 0600) into Dir, and returns the paths written. Existing files are kept
// unless Overwrite.
func (c *Contents) WriteAll(o WriteOptions) ([]string, error) {
	files, err := c.encodeAll(o)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	var written []string
	for _, f := range files {
		p := filepath.Join(o.Dir, o.Name+f.ext)
		if err := writeFile(p, f.data, f.mode, o.Overwrite); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	return written, nil
}

type outFile struct {
	ext  string
	data []byte
	mode os.FileMode
}

func (c *Contents) encodeAll(o WriteOptions) ([]outFile, error) {
	keyPEM, err := c.EncodeKeyPEM()
	if err != nil {
		return nil, err
	}
	certPEM, err := c.EncodeCertPEM()
	if err != nil {
		return nil, err
	}
	p12, err := c.EncodePKCS12(o.StorePass)
	if err != nil {
		return nil, err
	}
	jksData, err := c.EncodeJKS(o.Alias, o.StorePass, o.KeyPass, o.Now)
	if err != nil {
		return nil, err
	}
	return []outFile{
		{".key", keyPEM, 0o600}, {".pem", certPEM, 0o644}, {".crt", c.Certificate.Raw, 0o644},
		{".p12", p12, 0o600}, {".jks", jksData, 0o600},
	}, nil
}

func writeFile(path string, data []byte, mode os.FileMode, overwrite bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if overwrite {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, mode)
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	if err := f.Chmod(mode); err != nil {
		_ = f.Close()
		return fmt.Errorf("keystore: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("keystore: %w", err)
	}
	return f.Close()
}
