package grants

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// The device_code grant (RFC 8628 §3.4, §3.5) and the CIBA grant (CIBA
// Core §10.1, §11) are one shape: a client polls the token endpoint for a
// user's decision on something it started. Both answer
// authorization_pending until the user decides, slow_down for a poll that
// comes before the interval (the raised interval is stored, so every
// process applies it), access_denied after a denial, expired_token after
// the lifetime, invalid_grant for another client's handle, and tokens once
// after an approval: the approved record is spent by one conditional
// update in the same transaction that records the token family
// (SECURITY.md V3, V4; reliability invariant 1). awaitDecision holds that
// logic once; each grant supplies its record and its words.

// pendingDecision is the part of a polled record the answer depends on,
// with the approving sign-in (in a DeviceCode, whatever the grant) that
// the token family rests on.
type pendingDecision struct {
	hash      []byte
	clientID  string
	expiresAt time.Time
	status    storage.DeviceStatus
	signIn    storage.DeviceCode
}

// decisionGrant is what differs between the two grants: their errors'
// wording and their storage methods.
type decisionGrant struct {
	invalid                  func() error // invalid_grant for an unknown, foreign or spent handle
	expired, denied, pending string
	poll                     func(ctx context.Context, workspaceID string, hash []byte, p storage.DevicePoll) (bool, error)
	redeem                   func(ctx context.Context, workspaceID string, hash []byte, clientID string, now time.Time, f storage.TokenFamily, refreshHash []byte) error
}

// awaitDecision answers a poll for d, which the grant read by the hash of
// the presented handle (err is that read's error).
func (h *Handler) awaitDecision(ctx context.Context, req *request, d pendingDecision, err error, g decisionGrant) (*tokenResponse, error) {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, g.invalid()
	case err != nil:
		return nil, errUnavailable(err)
	case d.clientID != req.client.ID:
		// RFC 8628 §3.4, CIBA Core §11: issued to another client
		// (SECURITY.md V5).
		return nil, g.invalid()
	case !h.now().Before(d.expiresAt):
		return nil, oauth2.NewError(oauth2.ErrExpiredToken, g.expired)
	}
	switch d.status {
	case storage.DevicePending:
		return nil, h.pollPending(ctx, req, d.hash, g)
	case storage.DeviceDenied:
		return nil, oauth2.NewError(oauth2.ErrAccessDenied, g.denied)
	case storage.DeviceApproved:
		return h.redeemDecision(ctx, req, d, g)
	}
	return nil, g.invalid()
}

// pollPending answers a poll of an undecided record: slow_down when it
// came too early, else authorization_pending. Both are 400 (RFC 8628 §3.5
// and CIBA Core §11 use the RFC 6749 §5.2 error response).
func (h *Handler) pollPending(ctx context.Context, req *request, hash []byte, g decisionGrant) error {
	tooFast, err := g.poll(ctx, req.ws.ID, hash, storage.DevicePoll{
		Now: h.now(), Slack: DevicePollSlack, SlowDown: DeviceSlowDown,
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		// Decided in between: the next poll gets the answer.
	case err != nil:
		return errUnavailable(err)
	case tooFast:
		// RFC 8628 §3.5, CIBA Core §11 slow_down: the interval grows by
		// 5 seconds for this and all later polls.
		return oauth2.NewError(oauth2.ErrSlowDown, "polling too fast; the interval is now 5 seconds longer").WithStatus(http.StatusBadRequest)
	}
	return oauth2.NewError(oauth2.ErrAuthorizationPending, g.pending)
}

// redeemDecision issues the tokens of an approved record, through the code
// flow's mint path (claim mappings included), to a user who is still
// active (SECURITY.md V7).
func (h *Handler) redeemDecision(ctx context.Context, req *request, d pendingDecision, g decisionGrant) (*tokenResponse, error) {
	user, err := h.activeUser(ctx, req.ws.ID, d.signIn.UserID)
	if err != nil {
		return nil, err
	}
	fam := h.newDeviceFamily(req, d.signIn)
	iss, err := h.issueUserTokens(ctx, req, fam, user, d.signIn.Scopes, "", true)
	if err != nil {
		return nil, err
	}
	err = g.redeem(ctx, req.ws.ID, d.hash, req.client.ID, h.now(), fam, iss.refreshHash)
	if errors.Is(err, storage.ErrNotFound) {
		// Another poll won the race, or the record expired meanwhile.
		return nil, g.invalid()
	}
	if err != nil {
		return nil, errUnavailable(err)
	}
	return iss.resp, nil
}
