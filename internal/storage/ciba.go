package storage

import (
	"context"
	"time"
)

// CIBARequests holds the authentication requests of OpenID Connect
// Client-Initiated Backchannel Authentication (CIBA Core 1.0). Only hashes
// of the auth_req_id and of the emailed approval link's token are stored
// (SECURITY.md G8). The states are those of the device authorization grant
// (DevicePending, DeviceApproved, DeviceDenied, DeviceUsed) and every
// change is one conditional statement, so it holds across processes
// sharing the database (reliability invariant 1).
type CIBARequests interface {
	// CreateCIBARequest stores a new pending request. A hash or link hash
	// already in use in the workspace is ErrAlreadyExists; an unknown
	// workspace, client or user is ErrNotFound.
	CreateCIBARequest(ctx context.Context, r CIBARequest) error
	// GetCIBARequest reads a request by its auth_req_id hash, whatever
	// its state.
	GetCIBARequest(ctx context.Context, workspaceID string, hash []byte) (CIBARequest, error)
	// ListPendingCIBARequests returns the pending requests of userID that
	// have not expired at now, oldest first (at most 50).
	ListPendingCIBARequests(ctx context.Context, workspaceID, userID string, now time.Time) ([]CIBARequest, error)
	// UseCIBALink spends the emailed approval link whose token has
	// linkHash: one conditional update on a pending, unexpired request
	// whose link is unused. Of concurrent calls exactly one gets the
	// request; the others, and any call on a used link or a decided or
	// expired request, get ErrNotFound.
	UseCIBALink(ctx context.Context, workspaceID string, linkHash []byte, now time.Time) (CIBARequest, error)
	// DecideCIBARequest records the decision of the request's own user
	// (d.UserID must be the request's user) on a pending request that has
	// not expired at now. One conditional update: of concurrent decisions
	// exactly one wins; the others get ErrNotFound.
	DecideCIBARequest(ctx context.Context, workspaceID string, hash []byte, now time.Time, d DeviceDecision) error
	// PollCIBARequest records a token request on a pending request, with
	// the slow_down rule of PollDeviceCode (CIBA Core §11).
	PollCIBARequest(ctx context.Context, workspaceID string, hash []byte, p DevicePoll) (tooFast bool, err error)
	// RedeemCIBARequest spends an approved request of clientID that has not
	// expired at now and records the token family f (with its first
	// refresh token when refreshHash is not nil) in the same transaction:
	// of many concurrent calls on any number of processes exactly one
	// succeeds; the others get ErrNotFound.
	RedeemCIBARequest(ctx context.Context, workspaceID string, hash []byte, clientID string, now time.Time, f TokenFamily, refreshHash []byte) error
}

// CIBARequest is one backchannel authentication request (CIBA Core §7).
type CIBARequest struct {
	WorkspaceID string
	// Hash is the SHA-256 of the auth_req_id.
	Hash []byte
	// LinkHash is the SHA-256 of the emailed approval link's token.
	LinkHash []byte
	ClientID string
	// UserID is the user the request's hint identified (§7.1).
	UserID string
	Scopes []string
	// BindingMessage is shown to the user on the approval page (§7.1).
	BindingMessage string
	// DeliveryMode is the client's token delivery mode when the request
	// was made: "poll" or "ping" (§5).
	DeliveryMode string
	// PingSecret is, for a ping-mode request, the auth_req_id and the
	// client_notification_token sealed with the server's keyring (the
	// notification sends both back, §10.2); the store keeps it opaque.
	PingSecret string
	// NotificationEndpoint is the client's notification endpoint when the
	// request was made (ping mode).
	NotificationEndpoint string
	Status               DeviceStatus
	// Interval is the current minimum polling interval (§7.3, raised by
	// slow_down, §11).
	Interval     time.Duration
	LastPolledAt time.Time
	CreatedAt    time.Time
	ExpiresAt    time.Time
	// The decision, set by DecideCIBARequest.
	DecidedAt time.Time
	SessionID string
	AuthTime  time.Time
	AMR       []string
	ACR       string
	// UsedAt is set by RedeemCIBARequest; LinkUsedAt by UseCIBALink.
	UsedAt     time.Time
	LinkUsedAt time.Time
}
