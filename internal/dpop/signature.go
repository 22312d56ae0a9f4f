package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"math/big"
)

// verifySignature checks sig over the JWS signing input with key, for the
// proof algorithms this package accepts (DefaultAlgs; RFC 7518 §3.3–3.5,
// RFC 8037 §3.1). keyFitsAlg has already bound alg to the key's type and
// size; a key of another type fails here too. It makes the same checks as
// go-jose's verifiers: an ECDSA signature is exactly R||S of the curve's
// size, PSS takes any salt length.
func verifySignature(alg string, key any, input string, sig []byte) bool {
	switch alg {
	case "ES256":
		d := sha256.Sum256([]byte(input))
		return verifyECDSA(key, d[:], sig)
	case "ES384":
		d := sha512.Sum384([]byte(input))
		return verifyECDSA(key, d[:], sig)
	case "RS256", "PS256":
		k, ok := key.(*rsa.PublicKey)
		if !ok {
			return false
		}
		d := sha256.Sum256([]byte(input))
		if alg == "RS256" {
			return rsa.VerifyPKCS1v15(k, crypto.SHA256, d[:], sig) == nil
		}
		return rsa.VerifyPSS(k, crypto.SHA256, d[:], sig, nil) == nil
	case "EdDSA":
		k, ok := key.(ed25519.PublicKey)
		return ok && len(k) == ed25519.PublicKeySize && ed25519.Verify(k, []byte(input), sig)
	}
	return false
}

// verifyECDSA checks a JWS ECDSA signature: R and S as fixed-size
// big-endian integers, concatenated (RFC 7518 §3.4).
func verifyECDSA(key any, digest, sig []byte) bool {
	k, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return false
	}
	size := (k.Curve.Params().BitSize + 7) / 8
	if len(sig) != 2*size {
		return false
	}
	r := new(big.Int).SetBytes(sig[:size])
	s := new(big.Int).SetBytes(sig[size:])
	return ecdsa.Verify(k, digest, r, s)
}

// keyThumbprint is the RFC 7638 SHA-256 thumbprint of a proof's public
// key, base64url without padding: the required members in lexicographic
// order, without whitespace (§3.2, §3.3), from the decoded key, so that
// it equals go-jose's (Thumbprint) for every representation of the same
// key. It writes the JSON directly instead of through go-jose's encoder.
func keyThumbprint(key any) (string, error) {
	var in []byte
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		point, err := k.Bytes() // 0x04 || X || Y, each of the curve's size
		if err != nil {
			return "", err
		}
		size := (len(point) - 1) / 2
		in = thumbprintInput(256, `{"crv":"`, k.Curve.Params().Name, `","kty":"EC","x":"`, b64url(point[1:1+size]), `","y":"`, b64url(point[1+size:]), `"}`)
	case *rsa.PublicKey:
		e := big.NewInt(int64(k.E)).Bytes()
		in = thumbprintInput(1200, `{"e":"`, b64url(e), `","kty":"RSA","n":"`, b64url(k.N.Bytes()), `"}`)
	case ed25519.PublicKey:
		in = thumbprintInput(96, `{"crv":"Ed25519","kty":"OKP","x":"`, b64url(k), `"}`)
	default:
		return "", errors.New("dpop: thumbprint: unsupported key type")
	}
	sum := sha256.Sum256(in)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

func thumbprintInput(size int, parts ...string) []byte {
	b := make([]byte, 0, size)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
