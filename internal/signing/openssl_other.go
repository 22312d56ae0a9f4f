//go:build !(linux && cgo)

package signing

import (
	"crypto"
	"errors"

	"github.com/go-jose/go-jose/v4"
)

// loadOpenSSL reports that this build has no OpenSSL binding: it needs
// cgo on Linux (openssl_linux.go).
func loadOpenSSL() (string, error) {
	return "", errors.New("this build has no OpenSSL binding (it needs cgo on Linux)")
}

func newOpenSSLKey(crypto.Signer, string, jose.JSONWebKey) (jose.OpaqueSigner, error) {
	_, err := loadOpenSSL()
	return nil, err
}
