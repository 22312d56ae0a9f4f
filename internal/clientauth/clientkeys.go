package clientauth

import (
	"context"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/storage"
)

// ClientKeys returns the client's registered public keys with the key
// resolution of private_key_jwt: the inline JWKS when set, else its
// jwks_uri through the SSRF-safe cache (SECURITY.md L). Other endpoints
// use it for what clients sign or receive encrypted outside client
// authentication: request objects (RFC 9101 §6.2) and encrypted
// authorization responses (JARM §2.2).
func (a *Authenticator) ClientKeys(ctx context.Context, client storage.Client) ([]jose.JSONWebKey, error) {
	keys, _, err := a.clientKeys(ctx, client)
	return keys, err
}

// VerifyClientSigned checks tok's signature with the client's registered
// public keys exactly as a private_key_jwt assertion's is checked: keys
// only from the client's registration, its JWKS or its uploaded
// certificates within their validity (A4, certkeys.go), and on an unknown
// key one jwks_uri refetch bounded by the cache's cool-down (A5). The
// caller has parsed tok with its own algorithm allowlist and validates the
// claims afterwards.
func (a *Authenticator) VerifyClientSigned(ctx context.Context, client storage.Client, tok *jwtx.Token) error {
	return a.verifyClientJWT(ctx, client, tok)
}
