package clientauth

import (
	"crypto"
	"crypto/x509"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/storage"
)

// Uploaded client certificates (SECURITY.md A-rows) vouch for keys at the
// JWT bearer grant, for private_key_jwt and for request objects; one
// conversion serves all three.

// CertificateKeys turns a client's uploaded certificates into verification keys
// named by their kid. Certificates outside their validity are skipped: an
// expired certificate no longer vouches for its key. jwtx enforces the key
// size and the alg/key-type fit (A2, A15).
func CertificateKeys(certs []storage.ClientCertificate, now time.Time) []jose.JSONWebKey {
	out := make([]jose.JSONWebKey, 0, len(certs))
	for _, c := range certs {
		if now.After(c.NotAfter) || c.NotBefore.After(now.Add(jwtx.DefaultSkew)) {
			continue
		}
		key, ok := certificatePublicKey(c.DER)
		if !ok {
			continue
		}
		out = append(out, jose.JSONWebKey{Key: key, KeyID: c.KID, Use: "sig"})
	}
	return out
}

// parsedKeys remembers the public key of each certificate seen, keyed by
// its DER: parsing an X.509 certificate costs several microseconds, on
// every JWT bearer request and every certificate-signed client JWT. A certificate's bytes determine its key, so an
// entry is never stale; removing a certificate removes it from the client's
// list, which is read on every request. The map stops growing at
// maxParsedKeys. (A plain map: looking up string(der) in it does not copy
// the bytes, as a sync.Map key would.)
var parsedKeys = struct {
	sync.RWMutex
	m map[string]crypto.PublicKey
}{m: map[string]crypto.PublicKey{}}

const maxParsedKeys = 4096

// certificatePublicKey returns the public key of the DER certificate, or
// false when it does not parse (upload validation makes that rare).
func certificatePublicKey(der []byte) (crypto.PublicKey, bool) {
	parsedKeys.RLock()
	k, ok := parsedKeys.m[string(der)]
	parsedKeys.RUnlock()
	if ok {
		return k, true
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, false
	}
	parsedKeys.Lock()
	if len(parsedKeys.m) < maxParsedKeys {
		parsedKeys.m[string(der)] = cert.PublicKey
	}
	parsedKeys.Unlock()
	return cert.PublicKey, true
}
