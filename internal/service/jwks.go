package service

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// Limits of inline JWKS (SECURITY.md A15, L5).
const (
	MaxJWKSKeys  = 100
	maxJWKSBytes = 256 << 10
	minRSABits   = 2048
	maxRSABits   = 8192
)

// normalizeJWKS parses an inline JWK set with go-jose and checks every key
// (SECURITY.md A15): public keys only; RSA between 2048 and 8192 bits with
// an odd exponent of at least 3; EC on P-256, P-384 or P-521 (go-jose
// rejects off-curve points while parsing); Ed25519; no symmetric keys;
// unique kids; at most 100 keys; use "sig" when given; alg, when given, in
// the assertion allowlist and matching the key type. It returns the set
// re-serialized by go-jose, which drops members we do not interpret.
func normalizeJWKS(v *validator, field string, raw []byte) []byte {
	if len(raw) > maxJWKSBytes {
		v.add(field, "max_size", "must be at most %d bytes", maxJWKSBytes)
		return nil
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		v.add(field, "jwks", "is not a valid JWK set: %s", jwkParseMessage(err))
		return nil
	}
	if len(set.Keys) == 0 {
		v.add(field, "jwks", "must contain at least one key")
		return nil
	}
	if !v.maxItems(field+".keys", len(set.Keys), MaxJWKSKeys) {
		return nil
	}
	before := len(v.errs)
	kids := map[string]bool{}
	for i, k := range set.Keys {
		f := fmt.Sprintf("%s.keys[%d]", field, i)
		if p := jwkProblem(k); p != "" {
			v.add(f, "jwk", "%s", p)
		}
		v.check(!kids[k.KeyID], f+".kid", "unique", "duplicate kid %q (SECURITY.md P5)", k.KeyID)
		kids[k.KeyID] = true
	}
	if len(v.errs) > before {
		return nil
	}
	out, err := json.Marshal(set)
	if err != nil {
		v.add(field, "jwks", "cannot be serialized")
		return nil
	}
	return out
}

// jwkParseMessage is the public sentence for a key set that does not
// parse. The decoder's and go-jose's own text stays out of it: library
// wording is no API, and it may quote the caller's input back.
func jwkParseMessage(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "malformed JSON"
	case errors.As(err, &te):
		return "a member has the wrong type"
	}
	return "a key is not a valid JSON Web Key (RFC 7517 §4, RFC 7518 §6: check kty, crv and the key's members)"
}

func jwkProblem(k jose.JSONWebKey) string {
	if !k.IsPublic() {
		return "must be a public key (no private or symmetric key material)"
	}
	if k.Use != "" && k.Use != "sig" && k.Use != "enc" {
		// "enc": a key authorization responses are encrypted to (JARM §2.2).
		return `"use" must be "sig" or "enc"`
	}
	if p := keyStrengthProblem(k.Key); p != "" {
		return p
	}
	if k.Algorithm != "" && k.Use == "enc" {
		if !contains(oauth2.AuthorizationEncryptionAlgs, k.Algorithm) {
			return fmt.Sprintf("alg of an encryption key must be one of %v", oauth2.AuthorizationEncryptionAlgs)
		}
		return ""
	}
	if k.Algorithm != "" {
		if !contains(oauth2.AsymmetricVerifyAlgs, k.Algorithm) {
			return fmt.Sprintf("alg must be one of %v", oauth2.AsymmetricVerifyAlgs)
		}
		if !algFitsKey(k.Algorithm, k.Key) {
			return fmt.Sprintf("alg %s does not match the key type", k.Algorithm)
		}
	}
	return ""
}

func keyStrengthProblem(key any) string {
	switch pk := key.(type) {
	case *rsa.PublicKey:
		bits := pk.N.BitLen()
		if bits < minRSABits || bits > maxRSABits {
			return fmt.Sprintf("RSA key must have between %d and %d bits, has %d", minRSABits, maxRSABits, bits)
		}
		if pk.E < 3 || pk.E%2 == 0 {
			return "RSA public exponent must be odd and at least 3"
		}
	case *ecdsa.PublicKey:
		switch pk.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return "EC key must use P-256, P-384 or P-521"
		}
	case ed25519.PublicKey:
		if len(pk) != ed25519.PublicKeySize {
			return "Ed25519 key has the wrong size"
		}
	default:
		return "key type must be RSA, EC or OKP (Ed25519)"
	}
	return ""
}

// algFitsKey enforces one algorithm family per key type (RFC 8725 §3.1,
// SECURITY.md A2).
func algFitsKey(alg string, key any) bool {
	switch pk := key.(type) {
	case *rsa.PublicKey:
		return alg[:2] == "RS" || alg[:2] == "PS"
	case *ecdsa.PublicKey:
		return (alg == "ES256" && pk.Curve == elliptic.P256()) ||
			(alg == "ES384" && pk.Curve == elliptic.P384()) ||
			(alg == "ES512" && pk.Curve == elliptic.P521())
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}
