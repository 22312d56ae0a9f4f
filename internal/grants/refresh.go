package grants

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/fapi"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// maxRefreshLen bounds a refresh token before hashing (ours are 48 characters).
const maxRefreshLen = 256

// refreshStore is what the refresh_token grant needs from storage: the
// token's family, its rotation (which detects reuse and then revokes the
// family), and what the tokens are minted from (the user, the scopes'
// services).
type refreshStore interface {
	scopeStore
	GetUser(ctx context.Context, workspaceID, id string) (storage.User, error)
	GetRefreshToken(ctx context.Context, workspaceID string, hash []byte) (storage.TokenFamily, int, error)
	RotateRefreshToken(ctx context.Context, r storage.RefreshRotation) (storage.RotationResult, error)
}

// refreshRequest is the refresh_token grant's parameters (RFC 6749 §6).
type refreshRequest struct {
	refreshToken string
	// scopes narrow the original grant; empty means all of it.
	scopes []string
}

func parseRefresh(_ *request, form url.Values) (refreshRequest, error) {
	raw, err := opaqueParam(form, "refresh_token", RefreshTokenPrefix, maxRefreshLen, errBadRefresh)
	if err != nil {
		return refreshRequest{}, err
	}
	return refreshRequest{refreshToken: raw, scopes: strings.Fields(form.Get("scope"))}, nil
}

// refreshToken implements the refresh token grant (RFC 6749 §6,
// RFC 9700 §4.14): the token must belong to the authenticated client
// (H7), the scope may only narrow (H8), the user must still be active (and,
// in a family the JWT bearer grant began, still pre-authorized for the
// client) and the family live (H9, H10). The token is rotated (always for public
// clients, RFC 9700 §2.2.2) by one conditional update that also detects
// reuse and then revokes the whole family (H1–H6, reliability invariant 3).
func (h *Handler) refreshToken(ctx context.Context, req *request, p refreshRequest) (*tokenResponse, error) {
	raw, hash := p.refreshToken, sha(p.refreshToken)
	fam, err := h.loadFamily(ctx, req, hash)
	if err != nil {
		return nil, err
	}
	if err := checkFamilyBinding(req, fam); err != nil {
		return nil, err
	}
	if err := checkCertFamilyBinding(ctx, fam); err != nil { // RFC 8705 §4 (mtls.go)
		return nil, err
	}
	req.auth = familyAuth(fam)
	scopes, err := narrowScopes(p.scopes, fam.Scopes)
	if err != nil {
		return nil, err
	}
	user, err := h.activeUser(ctx, req.ws.ID, fam.UserID)
	if err != nil {
		return nil, err
	}
	if fam.GrantType == oauth2.GrantJWTBearer {
		// The client's pre-authorization admitted the user when the
		// family began; an admin who removes the user (or the user's
		// profile) from it stops the refreshes too, not only new
		// assertions.
		if err := preAuthorized(req.client, user); err != nil {
			return nil, err
		}
	}
	// A user the policy no longer admits gets no new tokens either.
	if err := h.checkUserPolicy(ctx, req, user, scopes, nil); err != nil {
		return nil, err
	}
	if err := h.checkAccessPolicies(ctx, req, user, scopeGrant{scopes: scopes}); err != nil {
		return nil, err
	}
	rotate := fapi.RotateRefresh(req.ws, req.client, h.AuthCode.Sealer != nil)
	t, err := h.prepareUserTokens(ctx, req, fam, user, scopes, "", rotate)
	if err != nil {
		return nil, err
	}
	wsID, grace := req.ws.ID, h.gracePeriod(req.client)
	iss, rt, err := signAndCommit(ctx, t, func() (string, error) {
		return h.rotate(ctx, wsID, grace, fam, hash, t)
	})
	if err != nil {
		return nil, err
	}
	iss.resp.RefreshToken = rt
	if !rotate {
		iss.resp.RefreshToken = raw
	}
	return iss.resp, nil
}

func errBadRefresh() error {
	return oauth2.NewError(oauth2.ErrInvalidGrant, "the refresh token is invalid, expired or revoked")
}

// loadFamily finds the token's family; a token of another client is
// refused without revealing whether it exists (H7).
func (h *Handler) loadFamily(ctx context.Context, req *request, hash []byte) (storage.TokenFamily, error) {
	fam, _, err := h.Store.GetRefreshToken(ctx, req.ws.ID, hash)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fam, errBadRefresh()
	case err != nil:
		return fam, errUnavailable(err)
	case fam.ClientID != req.client.ID || !fam.Live(h.now()):
		return fam, errBadRefresh()
	}
	// A family begun by token exchange ends with the family it was
	// exchanged from (tokenexchange_subject.go).
	switch live, err := h.parentLive(ctx, req.ws.ID, fam); {
	case err != nil:
		return fam, err
	case !live:
		return fam, errBadRefresh()
	}
	return fam, nil
}

// narrowScopes: without scope the original grant; otherwise a subset of
// it (RFC 6749 §6 "MUST NOT include any scope not originally granted").
func narrowScopes(requested, granted []string) ([]string, error) {
	if len(requested) == 0 {
		return granted, nil
	}
	out := []string{}
	for _, s := range requested {
		if !slices.Contains(granted, s) {
			return nil, oauth2.NewError(oauth2.ErrInvalidScope, "the requested scope exceeds the original grant")
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// rotate redeems the presented token and returns the refresh token to
// answer with: the new one of t, or within the grace period the successor
// already issued (H11). It runs beside t's signing (signAndCommit), so it
// reads nothing of the request.
func (h *Handler) rotate(ctx context.Context, wsID string, grace time.Duration, fam storage.TokenFamily, hash []byte, t *userTokens) (string, error) {
	r := storage.RefreshRotation{WorkspaceID: wsID, Hash: hash, NewHash: t.refreshHash, Now: h.now()}
	if grace > 0 && t.refreshHash != nil {
		sealed, err := h.AuthCode.Sealer.Encrypt([]byte(t.refreshToken), refreshAAD(wsID, fam.ID))
		if err != nil {
			return "", errUnavailable(err)
		}
		r.SuccessorSealed, r.Grace = sealed, grace
	}
	res, err := h.Store.RotateRefreshToken(ctx, r)
	switch {
	case errors.Is(err, storage.ErrRefreshReused), errors.Is(err, storage.ErrNotFound):
		return "", errBadRefresh()
	case err != nil:
		return "", errUnavailable(err)
	case res.Outcome == storage.RotationGrace:
		plain, err := h.AuthCode.Sealer.Decrypt(res.Family.SuccessorSealed, refreshAAD(wsID, fam.ID))
		if err != nil {
			return "", errUnavailable(err)
		}
		return string(plain), nil
	}
	return t.refreshToken, nil
}

func (h *Handler) gracePeriod(c storage.Client) time.Duration {
	if h.AuthCode.Sealer == nil || c.RefreshTokens == nil {
		return 0
	}
	return c.RefreshTokens.GracePeriod
}

func refreshAAD(wsID, familyID string) []byte {
	return []byte("refresh-token\x00" + wsID + "\x00" + familyID)
}
