package grants

import (
	"context"
	"errors"
	"net/http"
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
// Core §10.1, §11), as the device code grant does for RFC 8628:
// authorization_pending until the user decides, slow_down for a request
// that comes before the interval (the raised interval is stored, so every
// process applies it), access_denied after a denial, expired_token after
// the lifetime, invalid_grant for another client's auth_req_id, and tokens
// once after an approval: the approved request is spent by one
// conditional update in the same transaction that records the token
// family. The response is a regular OpenID Connect token response (§10.1.1)
// minted by the code flow's path: an ID token with at_hash when openid was
// granted (the urn:openid:params:jwt:claim:rt_hash and auth_req_id claims
// of §10.3.1 belong to push mode, which Latchkey does not offer).
func (h *Handler) ciba(ctx context.Context, req *request, p cibaRequest) (*tokenResponse, error) {
	hash := sha(p.id)
	r, err := h.Store.GetCIBARequest(ctx, req.ws.ID, hash)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, errBadAuthReqID()
	case err != nil:
		return nil, errUnavailable(err)
	case r.ClientID != req.client.ID:
		return nil, errBadAuthReqID()
	case !h.now().Before(r.ExpiresAt):
		return nil, oauth2.NewError(oauth2.ErrExpiredToken, "the auth_req_id has expired; start a new backchannel authentication request")
	}
	switch r.Status {
	case storage.DevicePending:
		return nil, h.pollCIBA(ctx, req, hash)
	case storage.DeviceDenied:
		return nil, oauth2.NewError(oauth2.ErrAccessDenied, "the user denied the authentication request")
	case storage.DeviceApproved:
		return h.redeemCIBA(ctx, req, r)
	}
	return nil, errBadAuthReqID()
}

// pollCIBA answers a token request on an undecided request (§11).
func (h *Handler) pollCIBA(ctx context.Context, req *request, hash []byte) error {
	tooFast, err := h.Store.PollCIBARequest(ctx, req.ws.ID, hash, storage.DevicePoll{
		Now: h.now(), Slack: DevicePollSlack, SlowDown: DeviceSlowDown,
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		// Decided in between: the next request gets the answer.
	case err != nil:
		return errUnavailable(err)
	case tooFast:
		// §11 slow_down: "the interval MUST be increased by at least 5
		// seconds for this and all subsequent requests".
		return oauth2.NewError(oauth2.ErrSlowDown, "polling too fast; the interval is now 5 seconds longer").WithStatus(http.StatusBadRequest)
	}
	return oauth2.NewError(oauth2.ErrAuthorizationPending, "the user has not yet approved the authentication request")
}

// redeemCIBA issues the tokens of an approved request to a user who is
// still active, through the code flow's mint path.
func (h *Handler) redeemCIBA(ctx context.Context, req *request, r storage.CIBARequest) (*tokenResponse, error) {
	user, err := h.activeUser(ctx, req.ws.ID, r.UserID)
	if err != nil {
		return nil, err
	}
	fam := h.newDeviceFamily(req, storage.DeviceCode{
		UserID: r.UserID, SessionID: r.SessionID, Scopes: r.Scopes, AuthTime: r.AuthTime, AMR: r.AMR, ACR: r.ACR,
	})
	iss, err := h.issueUserTokens(ctx, req, fam, user, r.Scopes, "", true)
	if err != nil {
		return nil, err
	}
	err = h.Store.RedeemCIBARequest(ctx, req.ws.ID, r.Hash, req.client.ID, h.now(), fam, iss.refreshHash)
	if errors.Is(err, storage.ErrNotFound) {
		// Another token request won the race, or the request expired.
		return nil, errBadAuthReqID()
	}
	if err != nil {
		return nil, errUnavailable(err)
	}
	return iss.resp, nil
}
