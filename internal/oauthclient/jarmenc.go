package oauthclient

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// The JWE algorithms an encrypted JWT authorization response may use
// (JARM §2.2, §3): RSA-OAEP and ECDH-ES key management, AES-CBC-HMAC and
// AES-GCM content encryption. RSA1_5 is refused (RFC 8725 §3.2), and so
// are PBES2, "dir" and the AES key wraps, which need a shared secret
// rather than the client's private key.
var (
	jarmKeyAlgs = []jose.KeyAlgorithm{
		jose.RSA_OAEP, jose.RSA_OAEP_256,
		jose.ECDH_ES, jose.ECDH_ES_A128KW, jose.ECDH_ES_A192KW, jose.ECDH_ES_A256KW,
	}
	jarmContentEncs = []jose.ContentEncryption{
		jose.A128CBC_HS256, jose.A192CBC_HS384, jose.A256CBC_HS512,
		jose.A128GCM, jose.A192GCM, jose.A256GCM,
	}
)

// maxJWTResponse bounds the response parameter before it is parsed.
const maxJWTResponse = 64 << 10

// isJWE reports a JWE in compact serialization (five parts, RFC 7516
// §7.1); a JWS has three.
func isJWE(raw string) bool { return strings.Count(raw, ".") == 4 }

// openJWTResponse returns the signed JWT of an authorization response:
// raw itself when it is a JWS, or the nested JWT inside when the server
// encrypted it to the client's key (JARM §2.2: signed, then encrypted,
// RFC 7519 §5.2). An only-signed response is refused when the client
// registered response encryption (s.RequireEncryption), so a downgrade
// is noticed.
func openJWTResponse(raw string, s Secured) (string, error) {
	if len(raw) > maxJWTResponse {
		return "", errors.New("oauthclient: the JWT authorization response is larger than 64 KiB")
	}
	if !isJWE(raw) {
		if s.RequireEncryption {
			return "", errors.New("oauthclient: the JWT authorization response is not encrypted although a response decryption key was given (JARM §2.2)")
		}
		return raw, nil
	}
	key, err := decrypter(s.DecryptionKey)
	if err != nil {
		return "", err
	}
	jwe, err := jose.ParseEncryptedCompact(raw, jarmKeyAlgs, jarmContentEncs)
	if err != nil {
		return "", fmt.Errorf("oauthclient: the encrypted JWT authorization response: %w", err)
	}
	if _, zip := jwe.Header.ExtraHeaders["zip"]; zip {
		return "", errors.New("oauthclient: the encrypted JWT authorization response is compressed ('zip'), which is refused (RFC 8725 §3.6)")
	}
	plain, err := jwe.Decrypt(key)
	if err != nil {
		return "", fmt.Errorf("oauthclient: the encrypted JWT authorization response cannot be decrypted with the client's key (is it the key registered for authorization_encrypted_response_alg %s?): %w",
			jwe.Header.Algorithm, err)
	}
	inner := string(plain)
	if isJWE(inner) || strings.Count(inner, ".") != 2 {
		return "", errors.New("oauthclient: the encrypted JWT authorization response does not hold a signed JWT (JARM §2.2)")
	}
	return inner, nil
}

// decrypter is the private key go-jose decrypts with: RSA for RSA-OAEP,
// EC for ECDH-ES.
func decrypter(k crypto.Signer) (any, error) {
	switch key := k.(type) {
	case nil:
		return nil, errors.New("oauthclient: the JWT authorization response is encrypted (JARM §2.2): give the client's decryption key with --response-key or --key (PEM, PKCS#12 or JKS)")
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
		return key, nil
	default:
		return nil, fmt.Errorf("oauthclient: a %T cannot decrypt a JWT authorization response: give an RSA or EC key", k)
	}
}
