package grants

import (
	"context"
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
// §3.5) through the polling shared with CIBA (decision.go).
func (h *Handler) deviceCode(ctx context.Context, req *request, p deviceCodeRequest) (*tokenResponse, error) {
	d, err := h.Store.GetDeviceCode(ctx, req.ws.ID, sha(p.code))
	return h.awaitDecision(ctx, req, pendingDecision{
		hash: d.Hash, clientID: d.ClientID, expiresAt: d.ExpiresAt, status: d.Status, signIn: d,
	}, err, decisionGrant{
		invalid: errBadDeviceCode,
		expired: "the device code has expired; start a new device authorization",
		denied:  "the user denied the authorization request",
		pending: "the user has not yet approved the request",
		poll:    h.Store.PollDeviceCode,
		redeem:  h.Store.RedeemDeviceCode,
	})
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
