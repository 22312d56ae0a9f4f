package grants

import (
	"context"
	"net/url"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// CIBARequestIDPrefix makes auth_req_id values greppable (SECURITY.md Q6).
const CIBARequestIDPrefix = "lkbc_"

// cibaStore is what the CIBA grant needs from storage: the request, its
// polling state, and its one-time redemption with the new token family.
type cibaStore interface {
	GetCIBARequest(ctx context.Context, workspaceID string, hash []byte) (storage.CIBARequest, error)
	PollCIBARequest(ctx context.Context, workspaceID string, hash []byte, p storage.DevicePoll) (bool, error)
	RedeemCIBARequest(ctx context.Context, workspaceID string, hash []byte, clientID string, now time.Time, f storage.TokenFamily, refreshHash []byte) error
}

// cibaRequest is the token request of the CIBA grant (CIBA Core §10.1).
type cibaRequest struct{ id string }

func parseCIBA(_ *request, form url.Values) (cibaRequest, error) {
	id, err := opaqueParam(form, "auth_req_id", CIBARequestIDPrefix, maxCodeLen, errBadAuthReqID)
	return cibaRequest{id: id}, err
}

// errBadAuthReqID is CIBA Core §11 invalid_grant: "If the auth_req_id is
// invalid or was issued to another Client".
func errBadAuthReqID() error {
	return oauth2.NewError(oauth2.ErrInvalidGrant, "the auth_req_id is invalid, was issued to another client or was already used")
}

// ciba implements the token request of the poll and ping modes (CIBA
// Core §10.1, §11) through the polling shared with the device code grant
// (decision.go). The response is a regular OpenID Connect token response
// (§10.1.1) minted by the code flow's path: an ID token with at_hash when
// openid was granted (the urn:openid:params:jwt:claim:rt_hash and
// auth_req_id claims of §10.3.1 belong to push mode, which Latchkey does
// not offer).
func (h *Handler) ciba(ctx context.Context, req *request, p cibaRequest) (*tokenResponse, error) {
	r, err := h.Store.GetCIBARequest(ctx, req.ws.ID, sha(p.id))
	return h.awaitDecision(ctx, req, pendingDecision{
		hash: r.Hash, clientID: r.ClientID, expiresAt: r.ExpiresAt, status: r.Status,
		signIn: storage.DeviceCode{
			UserID: r.UserID, SessionID: r.SessionID, Scopes: r.Scopes, AuthTime: r.AuthTime, AMR: r.AMR, ACR: r.ACR,
		},
	}, err, decisionGrant{
		invalid: errBadAuthReqID,
		expired: "the auth_req_id has expired; start a new backchannel authentication request",
		denied:  "the user denied the authentication request",
		pending: "the user has not yet approved the authentication request",
		poll:    h.Store.PollCIBARequest,
		redeem:  h.Store.RedeemCIBARequest,
	})
}
