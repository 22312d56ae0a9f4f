package grants

import (
	"context"
	"time"

	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// opaqueStore stores opaque access tokens. The write is group-committed
// with concurrent ones (sqlstore) and returns after the commit, so a
// token handed out is already resolvable by introspection on every
// process.
type opaqueStore interface {
	CreateOpaqueToken(ctx context.Context, t storage.OpaqueToken) error
}

// mintAccessToken turns the content of an access token into the value the
// client receives, in the client's format: an RFC 9068 JWT signed by
// signer, or an opaque reference token whose content only introspection
// reveals (stored hashed, docs/security.md G8). signer may be nil for an
// opaque token.
func (h *Handler) mintAccessToken(ctx context.Context, req *request, signer signing.Signer, at tokens.AccessToken) (string, error) {
	at = bindAccessToken(req, at) // RFC 9449 §6: cnf.jkt of a DPoP-bound token
	// RFC 9396 §9.1: the authorization_details claim (authzdetails.go).
	at = withAuthorizationDetails(req, at)
	if !req.client.OpaqueAccessTokens() {
		at, err := h.withStatus(ctx, req, at) // draft-ietf-oauth-status-list §6.2 (statuslist.go)
		if err != nil {
			return "", err
		}
		raw, err := tokens.Mint(signer, at)
		if err != nil {
			return "", errUnavailable(err)
		}
		return raw, nil
	}
	raw, row, err := tokens.NewOpaque(req.ws.ID, at)
	if err != nil {
		return "", errUnavailable(err)
	}
	if err := h.Store.CreateOpaqueToken(ctx, row); err != nil {
		return "", errUnavailable(err)
	}
	return raw, nil
}

// idTokenTTL is the client's ID token lifetime, or the access token's
// when the client sets none (OIDC Core §2 leaves exp to the server).
func idTokenTTL(c storage.Client, accessTTL time.Duration) time.Duration {
	if c.IDTokenTTL >= time.Second {
		return c.IDTokenTTL
	}
	return accessTTL
}
