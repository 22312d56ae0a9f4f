package jwtx

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// maxCandidateKeys bounds signature attempts for a token without kid, so a
// large key set cannot turn one request into many verifications.
const maxCandidateKeys = 8

// RSA modulus bounds for verification keys: at least 2048 bits (FAPI 2.0
// §5.4.1, SECURITY.md A15), at most 8192 so a registered key cannot make
// each verification expensive.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// Verify checks the signature with one of keys: the key whose kid matches the
// header kid, or, without kid, each key (at most 8) whose type fits alg. HMAC
// algs only with Symmetric keys.
//
// Keys are taken only from keys (A4): an unknown kid is an error, never a
// reason to look elsewhere. A key whose JWK "alg" or "use" disagrees with the
// token, or whose type or size does not fit the algorithm, is never tried
// (RFC 8725 §3.1, A2, A3).
func (t *Token) Verify(keys []jose.JSONWebKey) error {
	candidates, err := t.candidates(keys)
	if err != nil {
		return err
	}
	jws, err := t.parseJWS()
	if err != nil {
		return ErrSignatureInvalid
	}
	for _, k := range candidates {
		if t.verifyWith(jws, k) == nil {
			t.verified = true
			return nil
		}
	}
	return ErrSignatureInvalid
}

// VerifyHMAC checks an HS256/384/512 signature keyed by secret (the client
// secret for client_secret_jwt, RFC 7523 §2.2 with OIDC Core §9). go-jose
// refuses secrets shorter than the hash output (RFC 7518 §3.2).
func (t *Token) VerifyHMAC(secret []byte) error {
	if !isHMAC(t.Header.Alg) {
		return fail(ErrAlgorithm, "algorithm is not an HMAC algorithm", "alg %s", quote(t.Header.Alg))
	}
	if len(secret) == 0 {
		return ErrSignatureInvalid
	}
	jws, err := t.parseJWS()
	if err != nil {
		return ErrSignatureInvalid
	}
	if err := t.verifyWith(jws, secret); err != nil {
		return ErrSignatureInvalid
	}
	t.verified = true
	return nil
}

func (t *Token) candidates(keys []jose.JSONWebKey) ([]any, error) {
	if t.Header.Kid != "" {
		return t.candidatesByKid(keys)
	}
	var out []any
	for i := range keys {
		if k, ok := fitKey(&keys[i], t.Header.Alg); ok {
			out = append(out, k)
			if len(out) == maxCandidateKeys {
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fail(ErrNoMatchingKey, "no registered key fits the token's algorithm", "alg %s", quote(t.Header.Alg))
	}
	return out, nil
}

func (t *Token) candidatesByKid(keys []jose.JSONWebKey) ([]any, error) {
	var out []any
	found := false
	for i := range keys {
		if keys[i].KeyID != t.Header.Kid {
			continue
		}
		found = true
		if k, ok := fitKey(&keys[i], t.Header.Alg); ok {
			out = append(out, k)
		}
	}
	if !found {
		return nil, fail(ErrNoMatchingKey, "no registered key matches the token's kid", "kid %s", quote(t.Header.Kid))
	}
	if len(out) == 0 {
		return nil, fail(ErrAlgorithm, "the key named by kid cannot be used with the token's algorithm", "kid %s, alg %s", quote(t.Header.Kid), quote(t.Header.Alg))
	}
	if len(out) > maxCandidateKeys {
		out = out[:maxCandidateKeys]
	}
	return out, nil
}

// parseJWS hands the token to go-jose with an allowlist of exactly the
// header alg, which Parse already checked against the caller's list.
func (t *Token) parseJWS() (*jose.JSONWebSignature, error) {
	return jose.ParseSignedCompact(t.raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(t.Header.Alg)})
}

// verifyWith checks the signature with one key and that go-jose saw the
// same payload that Parse decoded.
func (t *Token) verifyWith(jws *jose.JSONWebSignature, key any) error {
	payload, err := jws.Verify(key)
	if err != nil {
		return err
	}
	if !bytes.Equal(payload, t.payload) {
		return errors.New("jwtx: payload mismatch")
	}
	return nil
}

// fitKey returns the verification key of k when it may verify alg.
func fitKey(k *jose.JSONWebKey, alg string) (any, bool) {
	if k.Algorithm != "" && k.Algorithm != alg {
		return nil, false
	}
	if k.Use != "" && k.Use != "sig" {
		return nil, false
	}
	key := k.Key
	if !k.IsPublic() && !isSymmetric(key) {
		pub := k.Public()
		key = pub.Key
	}
	return key, keyFitsAlg(key, alg)
}

func isSymmetric(key any) bool {
	_, ok := key.([]byte)
	return ok
}

// keyFitsAlg binds each algorithm family to exactly one Go key type, so a
// public key can never be used as an HMAC secret (A3) and an RSA key never
// verifies an ECDSA alg (A2).
func keyFitsAlg(key any, alg string) bool {
	switch k := key.(type) {
	case []byte:
		return isHMAC(alg) && len(k) > 0
	case *rsa.PublicKey:
		return (strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")) && k != nil && k.N.BitLen() >= minRSABits && k.N.BitLen() <= maxRSABits
	case *ecdsa.PublicKey:
		return k != nil && curveForAlg(alg) != nil && k.Curve == curveForAlg(alg)
	case ed25519.PublicKey:
		return alg == string(jose.EdDSA) && len(k) == ed25519.PublicKeySize
	}
	return false
}

func curveForAlg(alg string) elliptic.Curve {
	switch alg {
	case "ES256":
		return elliptic.P256()
	case "ES384":
		return elliptic.P384()
	case "ES512":
		return elliptic.P521()
	}
	return nil
}

func isHMAC(alg string) bool {
	return alg == "HS256" || alg == "HS384" || alg == "HS512"
}

// IsHMAC reports whether alg is one of the HMAC algorithms (HS256/384/512).
func IsHMAC(alg string) bool { return isHMAC(alg) }
