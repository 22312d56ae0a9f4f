package introspect

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

func (h *Handler) serveRevoke(w http.ResponseWriter, r *http.Request) {
	c := &call{}
	if err := h.begin(w, r, c); err != nil {
		h.fail(w, r, "revocation failed", c, err)
		return
	}
	outcome, err := h.revoke(r.Context(), c)
	if err != nil {
		h.fail(w, r, "revocation failed", c, err)
		return
	}
	h.debug(r, "revocation: "+outcome, c)
	// RFC 7009 §2.2: 200 whether or not the token was valid; the body is
	// ignored by clients.
	oauth2.WriteJSON(w, http.StatusOK, struct{}{})
}

// errNotIssuedToCaller refuses to revoke another client's token. RFC 7009
// §2.1: the server "verifies whether the token was issued to the client
// making the revocation request. If this validation fails, the request is
// refused and the client is informed of the error" (SECURITY.md I6); the
// token stays active. Only a caller already holding a valid token of
// another client learns this, so it is no oracle.
func errNotIssuedToCaller() error {
	return oauth2.NewError(oauth2.ErrUnauthorizedClient,
		"this token was not issued to the requesting client, so it may not revoke it")
}

// revoke marks the caller's own access token revoked until it expires.
// outcome (for logs) tells what happened; err is set only when storage
// failed, so a failure never reads as success (SECURITY.md I8).
func (h *Handler) revoke(ctx context.Context, c *call) (outcome string, err error) {
	if isRefreshToken(c.token) {
		return h.revokeRefresh(ctx, c)
	}
	at, ok, err := h.verify(ctx, c)
	if err != nil {
		return "", err
	}
	if !ok {
		return "not a valid access token, nothing to do", nil
	}
	if at.ClientID != c.caller.ID {
		return "", errNotIssuedToCaller()
	}
	if tokens.IsOpaque(c.token) {
		return h.revokeOpaque(ctx, c)
	}
	err = h.Store.RevokeToken(ctx, storage.RevokedToken{
		WorkspaceID: c.ws.ID,
		JTI:         at.JTI,
		ClientID:    at.ClientID,
		ExpiresAt:   at.ExpiresAt,
		RevokedAt:   h.now().UTC(),
	})
	if err != nil {
		return "", endpoint.ErrUnavailable(err)
	}
	if err := h.revokeStatus(ctx, c, at); err != nil {
		return "", err
	}
	return "revoked", nil
}
