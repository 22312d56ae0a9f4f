package authorize

import (
	"context"
	"crypto/rsa"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// RequestObjectDecrypter hands out the workspace's request object
// decryption keys (*signing.EncryptionKeys), whose public parts the JWKS
// publishes with "use": "enc": the active key first, then the previous
// keys a rotation left (each a *rsa.PrivateKey with its kid).
type RequestObjectDecrypter interface {
	DecryptionKeys(ctx context.Context, wsID string) ([]jose.JSONWebKey, error)
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
	keys, err := h.Decrypter.DecryptionKeys(ctx, wsID)
	if err != nil {
		return "", unavailable(err)
	}
	return decryptWithKeys(jwe, keys)
}

// errUnknownEncryptionKey: the JWE names (kid) a key the workspace does
// not publish, typically one removed after a rotation. Unlike a failed
// decryption this says nothing about the ciphertext, so it may be told
// apart (SECURITY.md T12 concerns the decryption itself).
var errUnknownEncryptionKey = oauth2.NewError(ErrInvalidRequestObject,
	"the request object is encrypted to a key this workspace does not publish (removed or unknown kid); encrypt it to a 'use' 'enc' key of the current JWKS")

// decryptWithKeys opens jwe with the key its header's kid names, or,
// without kid, with each published key in turn (the active one first; a
// workspace has few), so request objects encrypted to a previous key
// still decrypt during a rotation's overlap (docs/security.md T12a).
func decryptWithKeys(jwe *jose.JSONWebEncryption, keys []jose.JSONWebKey) (string, error) {
	kid := jwe.Header.KeyID
	for _, k := range keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		priv, ok := k.Key.(*rsa.PrivateKey)
		if !ok {
			continue
		}
		if plain, err := jwe.Decrypt(priv); err == nil {
			return string(plain), nil
		}
		if kid != "" {
			return "", errUndecryptable
		}
	}
	if kid != "" {
		return "", errUnknownEncryptionKey
	}
	return "", errUndecryptable
}
