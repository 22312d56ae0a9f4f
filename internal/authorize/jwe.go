package authorize

import (
	"context"
	"crypto/rsa"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// RequestObjectDecrypter hands out the workspace's request object
// decryption key (*signing.EncryptionKeys), whose public part the JWKS
// publishes with "use": "enc".
type RequestObjectDecrypter interface {
	DecryptionKey(ctx context.Context, wsID string) (*rsa.PrivateKey, error)
}

// Encrypted request objects (RFC 9101 §6.1): the algorithms accepted, as
// discovery lists them. RSA-OAEP-256 only for the key (never RSA1_5, no
// PBES2, no compression).
var (
	RequestObjectEncryptionAlgs = []string{"RSA-OAEP-256"}
	RequestObjectEncryptionEncs = []string{"A128CBC-HS256", "A256CBC-HS512", "A128GCM", "A256GCM"}
)

// errUndecryptable is the one answer to every decryption failure, so the
// error says nothing about where it failed (no padding oracle, SECURITY.md
// T12).
var errUndecryptable = oauth2.NewError(ErrInvalidRequestObject, "the request object could not be decrypted")

// isEncrypted reports a JWE in compact serialization (five parts).
func isEncrypted(raw string) bool { return strings.Count(raw, ".") == 4 }

// decryptRequestObject opens a request object encrypted to the
// workspace's key and returns the signed object inside (RFC 9101 §6.1:
// "signed and then encrypted"; decodeRequestObject then refuses an
// unsigned one).
func (h *Handler) decryptRequestObject(ctx context.Context, wsID, raw string) (string, error) {
	if len(raw) > maxRequestObjectSize*2 {
		return "", errUndecryptable
	}
	algs := make([]jose.KeyAlgorithm, len(RequestObjectEncryptionAlgs))
	for i, a := range RequestObjectEncryptionAlgs {
		algs[i] = jose.KeyAlgorithm(a)
	}
	encs := make([]jose.ContentEncryption, len(RequestObjectEncryptionEncs))
	for i, e := range RequestObjectEncryptionEncs {
		encs[i] = jose.ContentEncryption(e)
	}
	jwe, err := jose.ParseEncryptedCompact(raw, algs, encs)
	if err != nil {
		return "", errUndecryptable
	}
	if _, zip := jwe.Header.ExtraHeaders["zip"]; zip {
		return "", errUndecryptable
	}
	key, err := h.Decrypter.DecryptionKey(ctx, wsID)
	if err != nil {
		return "", unavailable(err)
	}
	plain, err := jwe.Decrypt(key)
	if err != nil {
		return "", errUndecryptable
	}
	return string(plain), nil
}
