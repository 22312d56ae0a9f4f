package introspect

import (
	"context"
	"errors"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/tokens"
)

// resolveOpaque reads an opaque access token's stored claims. Unlike a
// JWT's signature check, nothing of it is cached: its row is the token,
// and deleting the row (revocation) must end it at once on every process
// sharing the database. ok is false for an unknown or expired token.
func (h *Handler) resolveOpaque(ctx context.Context, c *call) (tokens.AccessToken, bool, error) {
	at, err := tokens.ResolveOpaque(ctx, h.Store, c.ws.ID, c.issuer, c.token, h.now())
	switch {
	case errors.Is(err, tokens.ErrInactive):
		return tokens.AccessToken{}, false, nil
	case err != nil:
		return tokens.AccessToken{}, false, endpoint.ErrUnavailable(err)
	}
	return at, true, nil
}

// revokeOpaque deletes the caller's own opaque token (RFC 7009 §2.1): the
// next introspection on any process finds no row.
func (h *Handler) revokeOpaque(ctx context.Context, c *call) (string, error) {
	if err := h.Store.DeleteOpaqueToken(ctx, c.ws.ID, tokens.OpaqueHash(c.token)); err != nil {
		return "", endpoint.ErrUnavailable(err)
	}
	return "opaque token deleted", nil
}
