package signing

import (
	"crypto"
	"fmt"
	"sync/atomic"

	"github.com/go-jose/go-jose/v4"
)

// Crypto backends of private-key signatures. Verification always uses Go's
// crypto: it is public-key work, cheap next to signing, and its code is the
// one every differential test trusts.
const (
	// BackendAuto signs with OpenSSL when libcrypto 3 loads, else with Go.
	BackendAuto = "auto"
	// BackendOpenSSL signs with the system's libcrypto (openssl_linux.go).
	BackendOpenSSL = "openssl"
	// BackendGo signs with Go's crypto/rsa, crypto/ecdsa and crypto/ed25519.
	BackendGo = "go"
)

// Backends lists the accepted backend choices.
var Backends = []string{BackendAuto, BackendOpenSSL, BackendGo}

// useOpenSSL is decided once at start by SelectBackend; until then (tests,
// tools) the package behaves as BackendAuto would.
var useOpenSSL atomic.Int32 // 0 undecided, 1 yes, 2 no

// SelectBackend sets the backend of every signer created afterwards and
// returns what is in use, for the start-up log line: "openssl" with the
// library's version, or "go" with the reason OpenSSL is not used. Choosing
// BackendOpenSSL when libcrypto cannot be loaded is an error.
func SelectBackend(choice string) (name, detail string, err error) {
	switch choice {
	case BackendGo:
		useOpenSSL.Store(2)
		return BackendGo, "chosen by configuration", nil
	case BackendOpenSSL, BackendAuto, "":
		version, loadErr := loadOpenSSL()
		if loadErr == nil {
			useOpenSSL.Store(1)
			return BackendOpenSSL, version, nil
		}
		if choice == BackendOpenSSL {
			return "", "", fmt.Errorf("signing: crypto backend openssl: %w", loadErr)
		}
		useOpenSSL.Store(2)
		return BackendGo, "OpenSSL not available: " + loadErr.Error(), nil
	default:
		return "", "", fmt.Errorf("signing: unknown crypto backend %q", choice)
	}
}

// ActiveBackend names the backend new signers use.
func ActiveBackend() string {
	if openSSLEnabled() {
		return BackendOpenSSL
	}
	return BackendGo
}

func openSSLEnabled() bool {
	switch useOpenSSL.Load() {
	case 1:
		return true
	case 2:
		return false
	}
	_, err := loadOpenSSL()
	return err == nil
}

// signingKeyFor is what go-jose signs with: the Go key itself, or the same
// key held by libcrypto. A key libcrypto refuses is signed by Go (both
// produce the same wire format). The chosen backend applies to RSA and
// ECDSA; Ed25519 stays on Go, which signs it about twice as fast as
// OpenSSL 3.0 does (docs/benchmarks.md, raw signing rates), unless a
// caller asks for OpenSSL by name.
func signingKeyFor(priv crypto.Signer, alg string, pub jose.JSONWebKey, backend string) any {
	if backend == BackendOpenSSL || (backend == "" && alg != string(jose.EdDSA) && openSSLEnabled()) {
		if k, err := newOpenSSLKey(priv, alg, pub); err == nil {
			return k
		}
	}
	return priv
}
