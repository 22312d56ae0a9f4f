package storage

import (
	"context"
	"time"
)

// DeviceCodes holds the pending authorizations of the device
// authorization grant (RFC 8628). Only hashes of the device code and of
// the normalised user code are stored (RFC 8628 §5.1, §5.2; SECURITY.md
// G8, V1). Every state change is one conditional statement, so it holds
// across processes sharing the database (reliability invariant 1).
type DeviceCodes interface {
	// CreateDeviceCode stores a new pending authorization. A device code
	// hash or a user code hash already in use in the workspace is
	// ErrAlreadyExists (the caller draws a new user code); an unknown
	// workspace or client is ErrNotFound.
	CreateDeviceCode(ctx context.Context, d DeviceCode) error
	// GetDeviceCode reads an authorization by its device code hash,
	// whatever its state.
	GetDeviceCode(ctx context.Context, workspaceID string, hash []byte) (DeviceCode, error)
	// GetDeviceCodeByUserCode reads the authorization whose user code has
	// userCodeHash when it is still pending and not expired at now;
	// otherwise ErrNotFound.
	GetDeviceCodeByUserCode(ctx context.Context, workspaceID string, userCodeHash []byte, now time.Time) (DeviceCode, error)
	// DecideDeviceCode records the user's decision on a pending
	// authorization that has not expired at now: approved (with the user
	// and the sign-in it rests on) or denied. One conditional update: of
	// concurrent decisions exactly one wins; the others, and any decision
	// on an authorization that is not pending or has expired, get
	// ErrNotFound.
	DecideDeviceCode(ctx context.Context, workspaceID string, hash []byte, now time.Time, d DeviceDecision) error
	// PollDeviceCode records a poll of a pending authorization (RFC 8628
	// §3.5). When the previous poll was less than the current interval
	// (minus p.Slack) before p.Now, the interval is raised by p.SlowDown
	// for this and every later poll and tooFast is true. Each outcome is
	// one conditional update, so polls on several processes share the
	// interval. ErrNotFound when the authorization is not pending.
	PollDeviceCode(ctx context.Context, workspaceID string, hash []byte, p DevicePoll) (tooFast bool, err error)
	// RedeemDeviceCode spends an approved authorization of clientID that
	// has not expired at now and records the token family f (with its
	// first refresh token when refreshHash is not nil) in the same
	// transaction: of many concurrent calls on any number of processes
	// exactly one succeeds; the others get ErrNotFound.
	RedeemDeviceCode(ctx context.Context, workspaceID string, hash []byte, clientID string, now time.Time, f TokenFamily, refreshHash []byte) error
}

// DeviceStatus is the state of a device authorization.
type DeviceStatus string

// Device authorization states: pending until the user decides, then
// approved or denied; an approved authorization becomes used when its
// tokens are issued.
const (
	DevicePending  DeviceStatus = "pending"
	DeviceApproved DeviceStatus = "approved"
	DeviceDenied   DeviceStatus = "denied"
	DeviceUsed     DeviceStatus = "used"
)

// DeviceCode is one device authorization (RFC 8628 §3.2).
type DeviceCode struct {
	WorkspaceID string
	// Hash is the SHA-256 of the device_code.
	Hash []byte
	// UserCodeHash is the SHA-256 of the normalised user_code.
	UserCodeHash []byte
	ClientID     string
	Scopes       []string
	Status       DeviceStatus
	// Interval is the current minimum polling interval (RFC 8628 §3.2,
	// raised by slow_down, §3.5).
	Interval     time.Duration
	LastPolledAt time.Time // zero before the first poll
	CreatedAt    time.Time
	ExpiresAt    time.Time
	// The decision, set by DecideDeviceCode.
	DecidedAt time.Time
	UserID    string
	SessionID string
	AuthTime  time.Time
	AMR       []string
	ACR       string
	// UsedAt is set by RedeemDeviceCode.
	UsedAt time.Time
}

// DeviceDecision is the user's answer on the device page.
type DeviceDecision struct {
	Approved  bool
	UserID    string
	SessionID string
	AuthTime  time.Time
	AMR       []string
	ACR       string
}

// DevicePoll is one poll of the token endpoint for a device code.
type DevicePoll struct {
	Now time.Time
	// Slack is how much earlier than the interval a poll may come without
	// being too fast: network jitter between two polls sent exactly one
	// interval apart.
	Slack time.Duration
	// SlowDown is what a poll that comes too fast adds to the interval.
	SlowDown time.Duration
}
