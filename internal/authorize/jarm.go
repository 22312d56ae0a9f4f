package authorize

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/storage"
)

// JWT Secured Authorization Response Mode (JARM §2.3).
const (
	ModeJWT         = "jwt" // JARM §2.3.4: query.jwt for response_type=code
	ModeQueryJWT    = "query.jwt"
	ModeFragmentJWT = "fragment.jwt"
	ModeFormPostJWT = "form_post.jwt"
)

// JARMLifetime is the lifetime of a response JWT (JARM §2.1: "A maximum
// JWT lifetime of 10 minutes is RECOMMENDED").
const JARMLifetime = 10 * time.Minute

// SignerSource hands out the active signer of a workspace
// (*signing.Manager).
type SignerSource interface {
	Signer(ctx context.Context, wsID string) (signing.Signer, error)
}

// isJWTMode reports a JARM response mode.
func isJWTMode(mode string) bool {
	return mode == ModeQueryJWT || mode == ModeFragmentJWT || mode == ModeFormPostJWT
}

// errNoEncryptionKey: the client registered response encryption but its
// key set has no key for the algorithm (a jwks_uri that changed since).
var errNoEncryptionKey = errors.New("authorize: the client has no key for its response encryption algorithm")

// secureResponse encodes the authorization response parameters (success
// and error alike) as a JWT signed with the workspace key (JARM §2.1,
// §2.2): iss, aud (the client), exp, and the parameters. When the client
// registered authorization_encrypted_response_alg, the signed JWT is then
// encrypted to the client's key (nested JWT, JARM §2.2, RFC 7519 §5.2).
func (h *Handler) secureResponse(ctx context.Context, f *flow, client storage.Client, params url.Values) (string, error) {
	if h.Signers == nil {
		return "", errors.New("authorize: no signer configured for JWT responses")
	}
	now := h.now()
	claims := map[string]any{"iss": f.issuer, "aud": client.ID, "exp": now.Add(JARMLifetime).Unix(), "iat": now.Unix()}
	for k, vs := range params {
		if k != "iss" && len(vs) > 0 {
			claims[k] = vs[0]
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := h.Signers.Signer(ctx, f.ws.ID)
	if err != nil {
		return "", err
	}
	if alg := client.AuthorizationSignedResponseAlg; alg != "" && alg != signer.Alg() {
		return "", errors.New("authorize: the client's authorization_signed_response_alg is not the workspace's signing algorithm")
	}
	signed, err := signer.Sign(payload, "JWT")
	if err != nil || client.AuthorizationEncryptedResponseAlg == "" {
		return signed, err
	}
	return h.encryptResponse(ctx, client, signed)
}

// encryptResponse encrypts a signed response JWT to the client's
// registered key for its alg and enc (JARM §2.2), with cty "JWT" as a
// nested JWT requires (RFC 7519 §5.2).
func (h *Handler) encryptResponse(ctx context.Context, client storage.Client, signed string) (string, error) {
	alg := client.AuthorizationEncryptedResponseAlg
	enc := client.AuthorizationEncryptedResponseEnc
	if enc == "" {
		enc = oauth2.DefaultAuthorizationEncryptionEnc
	}
	if !slices.Contains(oauth2.AuthorizationEncryptionAlgs, alg) || !slices.Contains(oauth2.AuthorizationEncryptionEncs, enc) {
		return "", errors.New("authorize: unsupported response encryption algorithms")
	}
	if h.ClientKeys == nil {
		return "", errNoEncryptionKey
	}
	keys, err := h.ClientKeys.ClientKeys(ctx, client)
	if err != nil {
		return "", err
	}
	key, ok := jwtx.EncryptionKey(keys, alg)
	if !ok {
		return "", errNoEncryptionKey
	}
	opts := (&jose.EncrypterOptions{}).WithContentType("JWT").WithType("JWT")
	e, err := jose.NewEncrypter(jose.ContentEncryption(enc),
		jose.Recipient{Algorithm: jose.KeyAlgorithm(alg), Key: key.Key, KeyID: key.KeyID}, opts)
	if err != nil {
		return "", err
	}
	obj, err := e.Encrypt([]byte(signed))
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}
