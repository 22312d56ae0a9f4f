package storage

import (
	"context"
	"time"
)

// LogoutQueue is the durable queue of OpenID Connect Back-Channel Logout
// 1.0 messages (§2.5, §2.7): one per ended browser session and client
// that was issued tokens in it and has a backchannel_logout_uri.
//
// Messages are written by the two methods that end sessions
// (DeleteBrowserSession, DeleteUserBrowserSessions of AuthFlow), in the
// same transaction as the deletion, so a session never ends without its
// messages being queued. They are delivered by any number of processes
// sharing the database: ClaimLogoutMessages leases each due message to one
// caller with one conditional UPDATE, so every message is delivered at
// least once, and exactly once unless a lease runs out mid-delivery.
type LogoutQueue interface {
	// SessionClients lists, ordered and without repeats, the IDs of the
	// clients that were issued tokens in browser session sessionID of
	// userID (token families whose SessionID it is).
	SessionClients(ctx context.Context, workspaceID, userID, sessionID string) ([]string, error)
	// ClaimLogoutMessages leases up to limit messages due at now (across
	// all workspaces) to the caller until now+lease: each gets a fresh
	// Claim and one more Attempt. A message leased to another caller is
	// not due until its lease ends, so a process that dies mid-delivery
	// only delays its messages.
	ClaimLogoutMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]LogoutMessage, error)
	// DeleteLogoutMessage removes a delivered (or abandoned) message,
	// only while m.Claim is still its lease; otherwise ErrNotFound.
	DeleteLogoutMessage(ctx context.Context, m LogoutMessage) error
	// RetryLogoutMessage makes a message due again at next, recording
	// lastError, only while m.Claim is still its lease; otherwise
	// ErrNotFound.
	RetryLogoutMessage(ctx context.Context, m LogoutMessage, next time.Time, lastError string) error
	// ListLogoutMessages lists the queued messages of a workspace, oldest
	// first (operators, tests).
	ListLogoutMessages(ctx context.Context, workspaceID string) ([]LogoutMessage, error)
}

// LogoutMessage is one queued back-channel logout: the logout token is
// signed at each delivery attempt (its exp is short), always with ID as
// its jti so that a receiver can recognise a repeat (§2.4).
type LogoutMessage struct {
	WorkspaceID string
	ID          string
	ClientID    string
	UserID      string
	SessionID   string
	// Attempts counts the claims so far, including the current one.
	Attempts      int
	CreatedAt     time.Time
	NextAttemptAt time.Time
	// Claim identifies the current lease ("" when not leased).
	Claim     string
	LastError string
}
