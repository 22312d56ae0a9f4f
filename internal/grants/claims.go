package grants

import (
	"context"
	"log/slog"
	"maps"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// mappedClaims computes the claim mappings of the services whose scopes
// are granted, then the client's (which win on a shared name), for a token
// request with the same input its policies see (policyInput). It is the
// one path by which every grant, and the what-if tool, gets mapped claims. An
// evaluation error or an oversized result fails the request closed
// (docs/security.md Z6, Z8): server_error with a public text, the cause
// logged, and never a token without or with truncated claims.
func (h *Handler) mappedClaims(ctx context.Context, req *request, user storage.User, grant scopeGrant) (policy.ClaimSet, error) {
	catalog, err := h.scopeCatalogOf(ctx, req)
	if err != nil {
		return nil, err
	}
	owners := policy.ServiceOwners(catalog.RefsOf(grant.scopes), grant.scopes)
	if len(req.client.ClaimMappings) > 0 {
		var one [1]policy.ClaimOwner // the usual case: the client's own mappings only, no allocation
		if owners == nil {
			owners = one[:0]
		}
		owners = append(owners, policy.ClientOwner(req.client))
	}
	if len(owners) == 0 {
		return nil, nil
	}
	set, err := h.Claims.Claims(ctx, req.ws.ID, owners, h.policyInput(req, user, grant))
	if err != nil {
		if h.Logger != nil {
			h.Logger.ErrorContext(ctx, "claim mapping could not be evaluated; no token issued",
				slog.String("workspace", req.ws.ID), slog.String("client", req.client.ID), slog.Any("error", err))
		}
		return nil, &oauth2.Error{Code: oauth2.ErrServerError,
			Description: "the client's claim mapping could not be evaluated", Cause: err}
	}
	return set, nil
}

// withMappedClaims adds the mapped claims to an access token's content:
// those for the access token, and for an opaque token also those for
// introspection (stored with it, only introspection shows them). A JWT
// carries only its access_token claims, which introspection echoes.
func withMappedClaims(at tokens.AccessToken, c storage.Client, set policy.ClaimSet) tokens.AccessToken {
	owned := false // at.Extra may be shared until it is copied once
	add := func(m map[string]any) {
		switch {
		case len(m) == 0:
			return
		case at.Extra == nil:
			// The set is this request's own: its map becomes the token's
			// content without a copy.
			at.Extra = m
			return
		case !owned:
			at.Extra = maps.Clone(at.Extra)
			owned = true
		}
		maps.Copy(at.Extra, m)
	}
	add(set[policy.TargetAccessToken])
	if c.OpaqueAccessTokens() {
		add(set[policy.TargetIntrospection])
	}
	return at
}
