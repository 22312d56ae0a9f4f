package tokencmd

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/spf13/pflag"

	"github.com/latchkey/latchkey/internal/keystore"
	"github.com/latchkey/latchkey/internal/oauthclient"
)

// mtlsFlags are the mutual TLS settings (RFC 8705): a client certificate
// for tls_client_auth or self_signed_tls_client_auth, or for
// certificate-bound tokens with any method, and the CAs trusted for the
// server (a test CA, say).
func mtlsFlags(fs *pflag.FlagSet, c *Connection) {
	fs.StringVar(&c.TLSClientCert, "tls-client-cert", "",
		"TLS client certificate for mutual TLS (RFC 8705): PEM, PKCS#12 or JKS (--storepass, --alias apply); default with tls_client_auth: --key/--cert")
	fs.StringVar(&c.TLSClientKey, "tls-client-key", "", "PEM private key of --tls-client-cert when that file has none")
	fs.StringVar(&c.TLSCA, "tls-ca", "", "PEM bundle of the CAs trusted for the server's certificate (default: the system's)")
}

// isMTLS reports whether method authenticates with the TLS client
// certificate (RFC 8705 §2).
func isMTLS(method oauthclient.AuthMethod) bool {
	return method == oauthclient.AuthTLSClient || method == oauthclient.AuthSelfSignedTLSClient
}

// withMTLS sets the client certificate and trusted CAs on hc's transport.
// With tls_client_auth or self_signed_tls_client_auth and no
// --tls-client-cert, the signing key (--key, with its certificate or
// --cert) is the client certificate.
func (e *env) withMTLS(hc *http.Client, c Connection, key *keystore.Contents, method oauthclient.AuthMethod) error {
	cert, err := e.clientCertificate(c, key, method)
	if err != nil {
		return err
	}
	if cert == nil && c.TLSCA == "" {
		return nil
	}
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		return errors.New("mutual TLS: unexpected HTTP transport")
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if cert != nil {
		conf.Certificates = []tls.Certificate{*cert}
	}
	if c.TLSCA != "" {
		b, err := os.ReadFile(c.TLSCA)
		if err != nil {
			return fmt.Errorf("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return fmt.Errorf("--tls-ca: %s holds no PEM certificate", c.TLSCA)
		}
		conf.RootCAs = pool
	}
	tr.TLSClientConfig = conf
	return nil
}

func (e *env) clientCertificate(c Connection, key *keystore.Contents, method oauthclient.AuthMethod) (*tls.Certificate, error) {
	switch {
	case c.TLSClientCert != "":
		k, err := e.loadTLSClientCert(c)
		if err != nil {
			return nil, err
		}
		return tlsCertificate(k, c.TLSClientCert)
	case isMTLS(method) && key != nil:
		return tlsCertificate(key, c.Key)
	case isMTLS(method):
		return nil, fmt.Errorf("%s needs a client certificate: --tls-client-cert FILE (or --key FILE with its certificate)", method)
	}
	return nil, nil
}

// loadTLSClientCert opens --tls-client-cert (a key store or a PEM file)
// and, when it holds no key, --tls-client-key.
func (e *env) loadTLSClientCert(c Connection) (*keystore.Contents, error) {
	storePass, err := e.resolveSecret(c.StorePassword, "key store password")
	if err != nil {
		return nil, err
	}
	keyPass, err := e.resolveSecret(c.KeyPassword, "key password")
	if err != nil {
		return nil, err
	}
	k, err := keystore.Load(c.TLSClientCert, keystore.Options{Alias: c.Alias, StorePassword: []byte(storePass), KeyPassword: []byte(keyPass)})
	if err != nil {
		return nil, err
	}
	if k.Signer == nil {
		if c.TLSClientKey == "" {
			return nil, fmt.Errorf("%s holds no private key: add --tls-client-key FILE", c.TLSClientCert)
		}
		kk, err := keystore.Load(c.TLSClientKey, keystore.Options{})
		if err != nil {
			return nil, err
		}
		if kk.Signer == nil {
			return nil, fmt.Errorf("%s holds no private key", c.TLSClientKey)
		}
		k.Signer = kk.Signer
		if err := k.CheckPair(); err != nil {
			return nil, fmt.Errorf("%s: %w", c.TLSClientKey, err)
		}
	}
	return k, nil
}

// tlsCertificate is the tls.Certificate of a key and its certificate
// chain.
func tlsCertificate(k *keystore.Contents, from string) (*tls.Certificate, error) {
	if k.Certificate == nil {
		return nil, fmt.Errorf("%s holds no certificate: mutual TLS needs one (--cert FILE or --tls-client-cert FILE)", from)
	}
	if k.Signer == nil {
		return nil, fmt.Errorf("%s holds no private key", from)
	}
	chain := [][]byte{k.Certificate.Raw}
	for _, c := range k.Chain {
		chain = append(chain, c.Raw)
	}
	return &tls.Certificate{Certificate: chain, PrivateKey: k.Signer, Leaf: k.Certificate}, nil
}
