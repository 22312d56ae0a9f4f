package storage

import (
	"context"
	"time"
)

// OpaqueTokens holds opaque (reference) access tokens: tokens whose value
// means nothing by itself and that only introspection resolves. Only the
// SHA-256 of the value is stored (docs/security.md G8). Reads always go to
// the database, never to a cache, so that revoking a token (deleting its
// row) takes effect at once on every process.
type OpaqueTokens interface {
	// CreateOpaqueToken stores t; a duplicate hash is ErrAlreadyExists.
	// It returns only after the row is committed.
	CreateOpaqueToken(ctx context.Context, t OpaqueToken) error
	// GetOpaqueToken reads the token with the given hash; ErrNotFound
	// when there is none (never issued, revoked or cleaned up). The
	// caller checks expiry.
	GetOpaqueToken(ctx context.Context, workspaceID string, hash []byte) (OpaqueToken, error)
	// DeleteOpaqueToken removes the token with the given hash; deleting
	// a missing token is not an error (RFC 7009 §2.2).
	DeleteOpaqueToken(ctx context.Context, workspaceID string, hash []byte) error
}

// OpaqueToken is the stored form of an opaque access token: the claims a
// JWT access token would carry (RFC 9068 §2.2), keyed by the value's hash.
type OpaqueToken struct {
	WorkspaceID string
	Hash        []byte
	ClientID    string
	Subject     string
	Scope       string
	JTI         string
	Audience    []string
	// FamilyID is the refresh-token family of a user token ("" for
	// client_credentials and JWT bearer tokens without one).
	FamilyID string
	// Extra holds additional claims, as a JWT token would carry them.
	Extra     map[string]any
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Access token formats of a client.
const (
	AccessTokenJWT    = "jwt"    // RFC 9068 JWT (the default)
	AccessTokenOpaque = "opaque" // reference token resolved by introspection
)

// OpaqueAccessTokens reports whether the client's access tokens are
// opaque reference tokens.
func (c Client) OpaqueAccessTokens() bool {
	return c.AccessTokenFormat == AccessTokenOpaque
}
