package introspect

import (
	"context"
	"time"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/statuslist"
	"github.com/latchkey/latchkey/internal/tokens"
)

// StatusDeps is what revocation needs to make a revoked JWT access token
// visible in the workspace's Token Status List
// (draft-ietf-oauth-status-list).
type StatusDeps struct {
	// Store sets the token's bit; nil sets none.
	Store interface {
		RevokeStatus(ctx context.Context, workspaceID string, idx int64, expiresAt, now time.Time) error
	}
	// Invalidate, when set, makes this process's published list rebuild
	// at once (publish.Publisher.Invalidate).
	Invalidate func(workspaceID string)
}

// revokeStatus sets the status bit of a revoked JWT access token that
// carries a status claim pointing into this workspace's lists (draft §6.2;
// bit 1 = INVALID, §7.1). A token without one (issued before status lists,
// or opaque) needs nothing: introspection already sees its revocation.
func (h *Handler) revokeStatus(ctx context.Context, c *call, at tokens.AccessToken) error {
	if h.Status.Store == nil {
		return nil
	}
	idx, ok := statuslist.GlobalIndex(c.issuer, at.Extra[statuslist.StatusClaim])
	if !ok {
		return nil
	}
	if err := h.Status.Store.RevokeStatus(ctx, c.ws.ID, idx, at.ExpiresAt, h.now().UTC()); err != nil {
		return endpoint.ErrUnavailable(err)
	}
	if h.Status.Invalidate != nil {
		h.Status.Invalidate(c.ws.ID)
	}
	return nil
}

// statusChanged rebuilds this process's published lists of the workspace
// on their next request (a family revoked: its tokens' bits are derived
// from the family when the list is built).
func (h *Handler) statusChanged(workspaceID string) {
	if h.Status.Invalidate != nil {
		h.Status.Invalidate(workspaceID)
	}
}

// internalClaim reports the access token claims introspection leaves out:
// the family ("rtf") and the status list entry ("status", draft §6.1),
// whose meaning the response already carries in active.
func internalClaim(name string) bool {
	return name == "rtf" || name == statuslist.StatusClaim
}

// hasMappedClaims reports whether extra holds a claim introspection shows.
func hasMappedClaims(extra map[string]any) bool {
	for k := range extra {
		if !internalClaim(k) {
			return true
		}
	}
	return false
}
