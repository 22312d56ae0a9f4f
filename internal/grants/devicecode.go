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

// DeviceCodePrefix makes device codes greppable (SECURITY.md Q6).
const DeviceCodePrefix = "lkdc_"

// Polling of the device authorization grant (RFC 8628 §3.5).
const (
	// DeviceSlowDown is what a poll that comes too early adds to the
	// interval: "the interval MUST be increased by 5 seconds for this and
	// all subsequent requests".
	DeviceSlowDown = 5 * time.Second
	// DevicePollSlack forgives network jitter between two polls sent one
	// interval apart.
	DevicePollSlack = 500 * time.Millisecond
)

// deviceCodeStore is what the device_code grant needs from storage: the
// authorization, its polling state, and its one-time redemption together
// with the new token family.
type deviceCodeStore interface {
	GetDeviceCode(ctx context.Context, workspaceID string, hash []byte) (storage.DeviceCode, error)
	PollDeviceCode(ctx context.Context, workspaceID string, hash []byte, p storage.DevicePoll) (bool, error)
	RedeemDeviceCode(ctx context.Context, workspaceID string, hash []byte, clientID string, now time.Time, f storage.TokenFamily, refreshHash []byte) error
}

// deviceCodeRequest is the device access token request (RFC 8628 §3.4).
type deviceCodeRequest struct{ code string }

func parseDeviceCode(_ *request, form url.Values) (deviceCodeRequest, error) {
	code, err := opaqueParam(form, "device_code", DeviceCodePrefix, maxCodeLen, errBadDeviceCode)
	return deviceCodeRequest{code: code}, err
}

func errBadDeviceCode() error {
	return oauth2.NewError(oauth2.ErrInvalidGrant, "the device code is invalid or was already used")
}

// deviceCode implements the device access token request (RFC 8628 §3.4,
// §3.5): authorization_pending until the user decides, slow_down for a
// poll that comes too early (the raised interval is stored, so every
// process applies it), access_denied after a denial, expired_token after
// the lifetime, and tokens once after an approval: the approved code is
// spent by one conditional update in the same transaction that records
// the token family (SECURITY.md V3, V4; reliability invariant 1).
func (h *Handler) deviceCode(ctx context.Context, req *request, p deviceCodeRequest) (*tokenResponse, error) {
	hash := sha(p.code)
	d, err := h.Store.GetDeviceCode(ctx, req.ws.ID, hash)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, errBadDeviceCode()
	case err != nil:
		return nil, errUnavailable(err)
	case d.ClientID != req.client.ID:
		// RFC 8628 §3.4: the device code was issued to another client
		// (SECURITY.md V5).
		return nil, errBadDeviceCode()
	case !h.now().Before(d.ExpiresAt):
		return nil, oauth2.NewError(oauth2.ErrExpiredToken, "the device code has expired; start a new device authorization")
	}
	switch d.Status {
	case storage.DevicePending:
		return nil, h.pollPending(ctx, req, hash)
	case storage.DeviceDenied:
		return nil, oauth2.NewError(oauth2.ErrAccessDenied, "the user denied the authorization request")
	case storage.DeviceApproved:
		return h.redeemDevice(ctx, req, d)
	}
	return nil, errBadDeviceCode()
}

// pollPending answers a poll of an authorization the user has not decided
// yet: slow_down when it came too early, else authorization_pending.
// Both are 400 (RFC 8628 §3.5 uses the RFC 6749 §5.2 error response).
func (h *Handler) pollPending(ctx context.Context, req *request, hash []byte) error {
	tooFast, err := h.Store.PollDeviceCode(ctx, req.ws.ID, hash, storage.DevicePoll{
		Now: h.now(), Slack: DevicePollSlack, SlowDown: DeviceSlowDown,
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		// Decided in between: the next poll gets the answer.
	case err != nil:
		return errUnavailable(err)
	case tooFast:
		return oauth2.NewError(oauth2.ErrSlowDown, "polling too fast; the interval is now 5 seconds longer").WithStatus(http.StatusBadRequest)
	}
	return oauth2.NewError(oauth2.ErrAuthorizationPending, "the user has not yet approved the request")
}

// redeemDevice issues the tokens of an approved authorization, through
// the code flow's mint path (claim mappings included), to a user who is
// still active (SECURITY.md V7).
func (h *Handler) redeemDevice(ctx context.Context, req *request, d storage.DeviceCode) (*tokenResponse, error) {
	user, err := h.activeUser(ctx, req.ws.ID, d.UserID)
	if err != nil {
		return nil, err
	}
	fam := h.newDeviceFamily(req, d)
	iss, err := h.issueUserTokens(ctx, req, fam, user, d.Scopes, "", true)
	if err != nil {
		return nil, err
	}
	err = h.Store.RedeemDeviceCode(ctx, req.ws.ID, d.Hash, req.client.ID, h.now(), fam, iss.refreshHash)
	if errors.Is(err, storage.ErrNotFound) {
		// Another poll won the race, or the code expired meanwhile.
		return nil, errBadDeviceCode()
	}
	if err != nil {
		return nil, errUnavailable(err)
	}
	return iss.resp, nil
}

// newDeviceFamily is the family of the tokens of an approved device
// authorization, with the sign-in the approval rests on.
func (h *Handler) newDeviceFamily(req *request, d storage.DeviceCode) storage.TokenFamily {
	now := h.now().UTC()
	f := storage.TokenFamily{
		WorkspaceID: req.ws.ID, ID: newOpaque()[:familyIDLength], ClientID: req.client.ID, UserID: d.UserID,
		SessionID: d.SessionID, Scopes: d.Scopes, AuthTime: d.AuthTime, AMR: d.AMR, ACR: d.ACR,
		GrantType: req.grantType, Generation: 1, CreatedAt: now, RotatedAt: now, LastUsedAt: now,
		DPoPJKT: familyBinding(req), // RFC 9449 §5 (dpop.go)
	}
	f.CertThumbprint = certFamilyBinding(req) // RFC 8705 §4 (mtls.go)
	if wantsRefresh(req.client, d.Scopes) {
		idle, abs := h.refreshTTLs(req.client)
		f.Refresh, f.IdleTTL, f.ExpiresAt = true, idle, now.Add(abs)
	}
	return f
}
