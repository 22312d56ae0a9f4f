package grants

import (
	"context"
	"errors"
	"slices"

	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// familyIDLength matches the code flow's family IDs (132 random bits).
const familyIDLength = 22

// bearerRefresh reports whether a JWT bearer response carries a refresh
// token: none unless the client enables them for this
// grant. The client must also be allowed the refresh_token grant, the
// only way to redeem one: the service layer refuses the setting without
// it, and a client whose grant type is removed later gets none, as
// wantsRefresh does for the code flow.
func bearerRefresh(c storage.Client) bool {
	return c.JWTBearer != nil && c.JWTBearer.RefreshTokens && slices.Contains(c.GrantTypes, oauth2.GrantRefreshToken)
}

// userSubject is the sub of a user token: the client's subject
// identifier for the user (OIDC Core §8) in the client's subject format.
// Every grant that issues user tokens (code, refresh, JWT bearer, a
// client_credentials service user) goes through it, so a token refreshed
// from a family names the user exactly as the first one did. A user
// lacking the format's value is invalid_grant.
func (h *Handler) userSubject(ctx context.Context, c storage.Client, user storage.User) (string, error) {
	sub, err := h.AuthCode.Subjects.Subject(ctx, c, user)
	var protocol *oauth2.Error
	switch {
	case errors.As(err, &protocol):
		return "", protocol
	case err != nil:
		return "", errUnavailable(err)
	}
	return sub, nil
}

// issueBearerWithRefresh answers a JWT bearer request with an access token
// and a refresh token of a new token family (RFC 6749 §5.1; RFC 7521 §4.1
// leaves refresh tokens to the server). The tokens are minted by
// issueUserTokens, as on every later refresh, so sub, aud and the family
// claim ("rtf", which lets introspection see the family revoked) agree
// across the whole family. The family and its first refresh token are
// written only once the assertion's jti has been spent: a replayed
// assertion gets invalid_grant and never creates a family (C7). Refreshes
// then go through the refresh_token grant unchanged (rotation, reuse
// detection, the user still active).
func (h *Handler) issueBearerWithRefresh(ctx context.Context, req *request, tok *jwtx.Token, user storage.User, scopes []string) (*tokenResponse, error) {
	fam := h.bearerFamily(req, user.ID, scopes)
	resp, err := h.issueSpendingJTI(ctx, req, tok, func() (*tokenResponse, error) {
		iss, err := h.issueUserTokens(ctx, req, fam, user, scopes, "", true)
		return iss.resp, err
	})
	if err != nil {
		return nil, err
	}
	if err := h.recordBearerFamily(ctx, fam, resp.RefreshToken); err != nil {
		return nil, err
	}
	return resp, nil
}

// bearerFamily is the family of a JWT bearer grant: no authorization code,
// no browser session and no sign-in (no auth_time, amr or acr), the
// client's refresh token lifetimes.
func (h *Handler) bearerFamily(req *request, userID string, scopes []string) storage.TokenFamily {
	now := h.now().UTC()
	idle, abs := h.refreshTTLs(req.client)
	return storage.TokenFamily{
		WorkspaceID: req.ws.ID, ID: newOpaque()[:familyIDLength], ClientID: req.client.ID, UserID: userID,
		Scopes: scopes, GrantType: oauth2.GrantJWTBearer, Refresh: true, Generation: 1, CreatedAt: now, RotatedAt: now, LastUsedAt: now,
		IdleTTL: idle, ExpiresAt: now.Add(abs),
	}
}

// recordBearerFamily stores the family with its first refresh token in one
// transaction. When that fails the response is dropped and the spent
// assertion cannot be retried: the client signs a new one, as after any
// other failure past the jti check. The access token already minted is
// never shown, and would introspect inactive anyway (its family does not
// exist).
func (h *Handler) recordBearerFamily(ctx context.Context, fam storage.TokenFamily, refreshToken string) error {
	err := h.Store.CreateTokenFamily(ctx, fam, sha(refreshToken))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound):
		// The user or the client was deleted since the request read it.
		return oauth2.NewError(oauth2.ErrInvalidGrant, "the user or the client no longer exists")
	default:
		return errUnavailable(err)
	}
}
