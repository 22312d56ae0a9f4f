package storage

import (
	"context"
	"time"
)

// PushedRequests holds pushed authorization requests (RFC 9126). Only the
// SHA-256 of a request_uri's random part is stored (docs/security.md G8).
type PushedRequests interface {
	// CreatePushedRequest stores p; a duplicate hash is ErrAlreadyExists
	// and an unknown workspace or client ErrNotFound.
	CreatePushedRequest(ctx context.Context, p PushedRequest) error
	// ConsumePushedRequest removes and returns the request with the given
	// hash pushed by clientID, in one atomic statement: of many concurrent
	// calls, on any number of processes, at most one gets it (RFC 9126
	// §4: "one-time use"). It returns ErrNotFound when there is none,
	// when it expired (at now), was consumed before, or belongs to
	// another client (which leaves it in place).
	ConsumePushedRequest(ctx context.Context, workspaceID, clientID string, hash []byte, now time.Time) (PushedRequest, error)
}

// PushedRequest is a validated authorization request pushed to the PAR
// endpoint: its parameters (after request object processing) keyed by the
// hash of the request_uri it was answered with.
type PushedRequest struct {
	WorkspaceID string
	Hash        []byte
	ClientID    string
	// Params are the authorization request parameters.
	Params    map[string][]string
	CreatedAt time.Time
	ExpiresAt time.Time
}
