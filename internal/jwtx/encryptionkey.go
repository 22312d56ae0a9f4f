package jwtx

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// EncryptionKey picks the key of keys that a JWE with key management
// algorithm alg may be encrypted to: a public key of the right type (RSA
// of at least 2048 bits for RSA-OAEP*, EC for ECDH-ES*) whose "use" is
// "enc" or absent and whose "alg", when set, is alg (RFC 8725 §3.1, RFC
// 7517 §4.2). ok is false when none fits.
func EncryptionKey(keys []jose.JSONWebKey, alg string) (key jose.JSONWebKey, ok bool) {
	for _, k := range keys {
		if (k.Use != "" && k.Use != "enc") || (k.Algorithm != "" && k.Algorithm != alg) || !k.Valid() {
			continue
		}
		switch pub := k.Key.(type) {
		case *rsa.PublicKey:
			if strings.HasPrefix(alg, "RSA-OAEP") && pub.N.BitLen() >= minRSABits && pub.N.BitLen() <= maxRSABits {
				return k, true
			}
		case *ecdsa.PublicKey:
			if strings.HasPrefix(alg, "ECDH-ES") {
				return k, true
			}
		}
	}
	return jose.JSONWebKey{}, false
}
