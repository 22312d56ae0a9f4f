package grants

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/statuslist"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// StatusDeps is what the Token Status List (draft-ietf-oauth-status-list)
// needs at the token endpoint.
type StatusDeps struct {
	// Allocator hands out status indexes from blocks reserved ahead of
	// use; nil issues tokens without a status claim.
	Allocator *statuslist.Allocator
	// Families ties the index of an access token issued from a refresh
	// token family to the family, so that revoking the family revokes the
	// token in the published list; nil records nothing.
	Families StatusFamilies
}

// StatusFamilies records index-to-family ties (storage.StatusLists) and
// reads a family (its parent, for families begun by token exchange).
type StatusFamilies interface {
	RecordStatusFamily(ctx context.Context, workspaceID string, idx int64, familyID string, expiresAt, now time.Time) error
	GetTokenFamily(ctx context.Context, workspaceID, id string) (storage.TokenFamily, error)
}

// withStatus adds the status claim of a JWT access token (draft §6.1,
// §6.2): {"status_list": {"idx": N, "uri": "<issuer>/statuslists/<list>"}}.
// A status claim from anywhere else (a claim mapping) is replaced. The
// index comes from a block reserved ahead (no write per token); a token of
// a family (the rtf claim of the code and refresh grants, whose paths
// write anyway) has its index recorded against the family, and a token
// refreshed from a family begun by token exchange against that family's
// parent too (revoking the subject's family ends it, RFC 8693, SECURITY.md
// U10).
func (h *Handler) withStatus(ctx context.Context, req *request, at tokens.AccessToken) (tokens.AccessToken, error) {
	a := h.Status.Allocator
	if a == nil {
		return at, nil
	}
	idx, err := a.Next(ctx, req.ws.ID)
	if err != nil {
		return at, errUnavailable(err)
	}
	extra := make(map[string]any, len(at.Extra)+1)
	maps.Copy(extra, at.Extra)
	extra[statuslist.StatusClaim] = statuslist.Claim(req.issuer, idx)
	at.Extra = extra
	if fam, _ := extra[oidc.FamilyClaim].(string); fam != "" && h.Status.Families != nil {
		if err := h.tieStatus(ctx, req, idx, fam, at.ExpiresAt); err != nil {
			return at, errUnavailable(err)
		}
	}
	return at, nil
}

// tieStatus records the ties of index idx: to family fam and, on a
// refresh, to fam's parent when it has one.
func (h *Handler) tieStatus(ctx context.Context, req *request, idx int64, fam string, exp time.Time) error {
	f := h.Status.Families
	now := h.now()
	if err := f.RecordStatusFamily(ctx, req.ws.ID, idx, fam, exp, now); err != nil {
		return err
	}
	if req.grantType != oauth2.GrantRefreshToken {
		return nil
	}
	family, err := f.GetTokenFamily(ctx, req.ws.ID, fam)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && family.ParentFamilyID == "") {
		return nil
	}
	if err != nil {
		return err
	}
	return f.RecordStatusFamily(ctx, req.ws.ID, idx, family.ParentFamilyID, exp, now)
}
