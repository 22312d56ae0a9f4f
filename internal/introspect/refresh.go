package introspect

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// Refresh tokens are opaque "lkrt_" values stored as hashes and
// grouped in token families; access tokens of the code flow name their
// family in the "rtf" claim. Revoking a refresh token revokes its family,
// which makes the family's access tokens inactive too (RFC 7009 §2.1:
// "If the token passed to the request is a refresh token and the
// authorization server supports the revocation of access tokens, then the
// authorization server SHOULD also invalidate all access tokens based on
// the same authorization grant").

// isRefreshToken tells refresh tokens apart by their prefix; the hint
// never decides (SECURITY.md I4).
func isRefreshToken(raw string) bool {
	return strings.HasPrefix(raw, tokens.RefreshTokenPrefix) && len(raw) <= 256
}

// refreshResponse is the RFC 7662 §2.2 answer for an active refresh token.
type refreshResponse struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope"`
	ClientID  string `json:"client_id"`
	Subject   string `json:"sub,omitempty"`
	Issuer    string `json:"iss"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp,omitempty"`
	TokenType string `json:"token_type"`
}

// liveRefresh returns the family of a refresh token that is the current
// generation of a live family of the caller's workspace.
func (h *Handler) liveRefresh(ctx context.Context, c *call) (storage.TokenFamily, bool, error) {
	fam, gen, err := h.Store.GetRefreshToken(ctx, c.ws.ID, hash(c.token))
	if errors.Is(err, storage.ErrNotFound) {
		return fam, false, nil
	}
	if err != nil {
		return fam, false, endpoint.ErrUnavailable(err)
	}
	if gen != fam.Generation || !fam.Live(h.now()) {
		return fam, false, nil
	}
	revoked, err := h.parentRevoked(ctx, c.ws.ID, fam)
	return fam, !revoked, err
}

// parentRevoked reports whether the family a token exchange began fam
// from (RFC 8693; storage.TokenFamily.ParentFamilyID) was revoked or
// vanished: that ends fam and its tokens too.
func (h *Handler) parentRevoked(ctx context.Context, wsID string, fam storage.TokenFamily) (bool, error) {
	if fam.ParentFamilyID == "" {
		return false, nil
	}
	parent, err := h.Store.GetTokenFamily(ctx, wsID, fam.ParentFamilyID)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, endpoint.ErrUnavailable(err)
	}
	return !parent.RevokedAt.IsZero(), nil
}

// introspectRefresh answers for a refresh token: only its own client may
// see it (RFC 7662 §2.2 policy; a refresh token has no audience).
func (h *Handler) introspectRefresh(ctx context.Context, c *call) (any, error) {
	fam, live, err := h.liveRefresh(ctx, c)
	if err != nil {
		return nil, err
	}
	if !live || fam.ClientID != c.caller.ID {
		return inactiveResponse{}, nil
	}
	client, err := h.Store.GetClient(ctx, c.ws.ID, fam.ClientID)
	if err != nil || !client.Enabled {
		return inactiveResponse{}, nil
	}
	sub, err := h.refreshSubject(ctx, client, fam.UserID)
	if err != nil {
		return nil, err
	}
	resp := refreshResponse{
		Active: true, Scope: strings.Join(fam.Scopes, " "), ClientID: fam.ClientID, Subject: sub,
		Issuer: c.issuer, IssuedAt: fam.RotatedAt.Unix(), TokenType: "refresh_token",
	}
	if !fam.ExpiresAt.IsZero() {
		resp.ExpiresAt = fam.ExpiresAt.Unix()
	}
	return resp, nil
}

// revokeRefresh revokes the family of the caller's own refresh token.
func (h *Handler) revokeRefresh(ctx context.Context, c *call) (string, error) {
	fam, _, err := h.Store.GetRefreshToken(ctx, c.ws.ID, hash(c.token))
	if errors.Is(err, storage.ErrNotFound) {
		return "unknown refresh token, nothing to do", nil
	}
	if err != nil {
		return "", endpoint.ErrUnavailable(err)
	}
	if fam.ClientID != c.caller.ID {
		return "", errNotIssuedToCaller()
	}
	if err := h.Store.RevokeTokenFamily(ctx, c.ws.ID, fam.ID, h.now().UTC()); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return "", endpoint.ErrUnavailable(err)
	}
	h.statusChanged(c.ws.ID) // the family's access tokens' status bits (statuslist.go)
	return "refresh token family revoked", nil
}

// familyRevoked reports whether an access token of the code flow belongs
// to a revoked (or vanished) family. Tokens without "rtf" have no family.
func (h *Handler) familyRevoked(ctx context.Context, wsID string, at tokens.AccessToken) (bool, error) {
	id, _ := at.Extra[oidc.FamilyClaim].(string)
	if id == "" {
		return false, nil
	}
	fam, err := h.Store.GetTokenFamily(ctx, wsID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, endpoint.ErrUnavailable(err)
	}
	if !fam.RevokedAt.IsZero() {
		return true, nil
	}
	return h.parentRevoked(ctx, wsID, fam)
}

func hash(raw string) []byte {
	s := sha256.Sum256([]byte(raw))
	return s[:]
}

// refreshSubject is the sub of a refresh token's user in the client's
// subject format, as its access tokens carry it. A user who no longer has
// the format's value (the e-mail address was removed) has no sub: the
// member is left out (it is optional, RFC 7662 §2.2), and the next refresh
// fails with invalid_grant.
func (h *Handler) refreshSubject(ctx context.Context, client storage.Client, userID string) (string, error) {
	user := storage.User{ID: userID}
	switch client.EffectiveSubjectFormat() {
	case storage.SubjectFormatUsername, storage.SubjectFormatEmail:
		u, err := h.Store.GetUser(ctx, client.WorkspaceID, userID)
		if errors.Is(err, storage.ErrNotFound) {
			return "", nil
		}
		if err != nil {
			return "", endpoint.ErrUnavailable(err)
		}
		user = u
	}
	sub, err := (&oidc.Subjects{Store: h.Store}).Subject(ctx, client, user)
	var protocol *oauth2.Error
	switch {
	case errors.As(err, &protocol):
		return "", nil
	case err != nil:
		return "", endpoint.ErrUnavailable(err)
	}
	return sub, nil
}
