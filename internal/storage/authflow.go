package storage

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Errors of the authorization-flow part of the contract.
var (
	// ErrRefreshReused is returned by RotateRefreshToken when the presented
	// refresh token is an older generation of its family (outside the grace
	// period): the family has been revoked in the same transaction
	// (RFC 9700 §4.14.2, SECURITY.md H1).
	ErrRefreshReused = errors.New("storage: refresh token reused; family revoked")
	// ErrAttemptDenied is returned by an updater of UpdateLoginCounter to
	// refuse an attempt without writing anything (any error does; this one
	// is provided for callers that have nothing better).
	ErrAttemptDenied = errors.New("storage: attempt denied")
)

// AuthFlow is the part of Storage behind the authorization code flow,
// sign-in and OpenID Connect: user passwords and set-password
// links, browser sessions, pending authorization requests, authorization
// codes, refresh-token families, consents and sign-in attempt counters.
//
// Everything that must happen once is one atomic statement or one
// transaction in the database, so it holds across processes sharing it
// (reliability invariants 1–3). Bearer values (session cookies, codes,
// refresh tokens, set-password tokens) are stored only as SHA-256 hashes.
type AuthFlow interface {
	// SetUserPassword stores (or replaces) the argon2id PHC hash of a
	// user's password. A missing user is ErrNotFound.
	SetUserPassword(ctx context.Context, p UserPassword) error
	// GetUserPassword returns ErrNotFound when the user has no password.
	GetUserPassword(ctx context.Context, workspaceID, userID string) (UserPassword, error)

	// CreatePasswordToken stores a set-password link token (hash only)
	// and removes the user's earlier tokens atomically: only the newest
	// link works.
	CreatePasswordToken(ctx context.Context, t PasswordToken) error
	// ConsumePasswordToken deletes and returns the token with hash when it
	// has not expired at now, with one statement: exactly one of many
	// concurrent calls gets it. Otherwise ErrNotFound.
	ConsumePasswordToken(ctx context.Context, workspaceID string, hash []byte, now time.Time) (PasswordToken, error)

	// Browser sessions of signed-in users, looked up by the SHA-256 of the
	// cookie value; ID is a public identifier (the "sid" claim, admin
	// listing) that does not let anyone use the session.
	CreateBrowserSession(ctx context.Context, s BrowserSession) error
	GetBrowserSession(ctx context.Context, workspaceID string, idHash []byte) (BrowserSession, error)
	// ListBrowserSessions lists a user's sessions, newest first.
	ListBrowserSessions(ctx context.Context, workspaceID, userID string) ([]BrowserSession, error)
	// DeleteBrowserSession removes one session by its public ID.
	DeleteBrowserSession(ctx context.Context, workspaceID, id string) error
	// DeleteUserBrowserSessions signs a user out everywhere.
	//
	// Both delete methods queue, in the same transaction, the
	// back-channel logout messages of the sessions they end (LogoutQueue).
	DeleteUserBrowserSessions(ctx context.Context, workspaceID, userID string) (int64, error)

	// Pending authorization requests (between /authorize and the redirect
	// back to the client).
	CreateAuthRequest(ctx context.Context, r AuthRequest) error
	// GetAuthRequest returns ErrNotFound for unknown and expired (at now)
	// requests.
	GetAuthRequest(ctx context.Context, workspaceID, id string, now time.Time) (AuthRequest, error)
	// DeleteAuthRequest is the single-use gate of a pending request: of
	// concurrent calls exactly one succeeds, the others get ErrNotFound.
	DeleteAuthRequest(ctx context.Context, workspaceID, id string) error

	// Authorization codes (hash only).
	CreateAuthCode(ctx context.Context, c AuthCode) error
	// GetAuthCode returns the code with hash, used or not, expired or not.
	GetAuthCode(ctx context.Context, workspaceID string, hash []byte) (AuthCode, error)
	// RedeemAuthCode marks the code used with one conditional UPDATE (not
	// used yet, not expired at now) and, in the same transaction, records
	// the token family issued from it, and its first refresh token when
	// refreshHash is not nil. When the code is already used or expired
	// nothing is written and the result is ErrNotFound (reliability
	// invariant 1).
	RedeemAuthCode(ctx context.Context, workspaceID string, hash []byte, now time.Time, f TokenFamily, refreshHash []byte) error

	// Token families: everything issued from one authorization code or
	// one JWT bearer assertion.
	//
	// CreateTokenFamily records a family issued without an authorization
	// code (the JWT bearer grant with refresh tokens, RFC 7523) and, in the
	// same transaction, its first refresh token when refreshHash is not
	// nil: either both are written or neither. An existing family ID or
	// refresh token hash is ErrAlreadyExists; an unknown client or user
	// (f.ClientID, f.UserID in f.WorkspaceID) is ErrNotFound.
	CreateTokenFamily(ctx context.Context, f TokenFamily, refreshHash []byte) error
	GetTokenFamily(ctx context.Context, workspaceID, id string) (TokenFamily, error)
	// RotateRefreshToken redeems a refresh token (see RefreshRotation).
	RotateRefreshToken(ctx context.Context, r RefreshRotation) (RotationResult, error)
	// GetRefreshToken returns the family of the refresh token with hash
	// and that token's generation (current when equal to the family's).
	GetRefreshToken(ctx context.Context, workspaceID string, hash []byte) (TokenFamily, int, error)
	// RevokeTokenFamily marks a family revoked (its refresh tokens stop
	// working, its access tokens introspect inactive). Revoking twice is
	// not an error; an unknown family is ErrNotFound.
	RevokeTokenFamily(ctx context.Context, workspaceID, id string, now time.Time) error
	// RevokeTokenFamilies revokes every live family of a user, limited to
	// one client when clientID is not "".
	RevokeTokenFamilies(ctx context.Context, workspaceID, userID, clientID string, now time.Time) (int64, error)

	// Consents: the scopes a user granted a client.
	PutConsent(ctx context.Context, c Consent) error
	GetConsent(ctx context.Context, workspaceID, userID, clientID string) (Consent, error)
	// ListConsents lists a user's consents ordered by client ID.
	ListConsents(ctx context.Context, workspaceID, userID string) ([]Consent, error)
	DeleteConsent(ctx context.Context, workspaceID, userID, clientID string) error

	// UpdateLoginCounter runs updater on the counter with key (a zero
	// counter when none exists) under a row lock and writes the result, so
	// that parallel sign-in attempts serialize (SECURITY.md K7). An updater
	// error aborts without writing and is returned unchanged.
	UpdateLoginCounter(ctx context.Context, workspaceID, key string, updater func(LoginCounter) (LoginCounter, error)) (LoginCounter, error)
	// GetLoginCounter reads a counter without locking or writing it, so
	// that a successful sign-in costs no write (docs/security.md R9);
	// ErrNotFound when none exists.
	GetLoginCounter(ctx context.Context, workspaceID, key string) (LoginCounter, error)
	// DeleteLoginCounter forgets a counter (after a successful sign-in).
	DeleteLoginCounter(ctx context.Context, workspaceID, key string) error

	// PairwiseSalt returns the workspace's secret salt for pairwise
	// subject identifiers (OIDC Core §8.1), storing candidate on first
	// use; concurrent first uses all get the one value stored.
	PairwiseSalt(ctx context.Context, workspaceID string, candidate []byte) ([]byte, error)

	// DeleteExpiredAuthFlow removes expired requests, codes, sessions,
	// set-password tokens, counters and families (with their refresh
	// tokens) that can no longer be used at now.
	DeleteExpiredAuthFlow(ctx context.Context, now time.Time) (int64, error)
}

// UserPassword is a user's password hash.
type UserPassword struct {
	WorkspaceID string
	UserID      string
	// Hash is a PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
	Hash      string
	ChangedAt time.Time
}

// PasswordToken is an e-mailed set-password link, stored as a hash.
type PasswordToken struct {
	WorkspaceID string
	Hash        []byte
	UserID      string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// BrowserSession is a signed-in browser (OIDC Core §2 auth_time, amr, acr).
type BrowserSession struct {
	WorkspaceID string
	ID          string // public: the "sid" claim
	IDHash      []byte // SHA-256 of the cookie value
	UserID      string
	AuthTime    time.Time
	AMR         []string
	ACR         string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// AuthRequest is a pending authorization request (RFC 6749 §4.1.1,
// OIDC Core §3.1.2.1), validated and bound to the browser that sent it.
type AuthRequest struct {
	WorkspaceID string
	ID          string
	// BrowserHash is the SHA-256 of the browser-binding cookie of the
	// browser that started the request (SECURITY.md E15).
	BrowserHash   []byte
	ClientID      string
	RedirectURI   string
	ResponseMode  string
	State         string
	Nonce         string
	Scopes        []string
	Resources     []string // RFC 8707 resource parameters, for policies
	CodeChallenge string
	Prompt        []string
	// MaxAge is the max_age parameter in seconds; -1 when absent.
	MaxAge    int
	LoginHint string
	// HintSubject is the sub of a valid id_token_hint ("" when absent).
	HintSubject string
	UILocales   []string
	ACRValues   []string
	// Claims is the "claims" parameter (OIDC Core §5.5), validated JSON.
	Claims    json.RawMessage
	CreatedAt time.Time
	ExpiresAt time.Time
	// DPoPJKT is the dpop_jkt parameter (RFC 9449 §10): the thumbprint of
	// the key the code will be bound to; "" when absent.
	DPoPJKT string
	// AuthorizationDetails is the validated authorization_details
	// parameter (RFC 9396 §2), a JSON array; nil when absent.
	AuthorizationDetails json.RawMessage
}

// AuthCode is an issued authorization code (RFC 6749 §4.1.2).
type AuthCode struct {
	WorkspaceID string
	Hash        []byte
	// FamilyID names the token family the code's tokens will belong to,
	// fixed at issuance so that a reused code can revoke them (G1).
	FamilyID      string
	ClientID      string
	UserID        string
	RedirectURI   string
	Scopes        []string
	CodeChallenge string
	Nonce         string
	SessionID     string
	AuthTime      time.Time
	AMR           []string
	ACR           string
	Claims        json.RawMessage
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        time.Time // zero while unused
	// DPoPJKT binds the code to a DPoP key (RFC 9449 §10): it is redeemed
	// only with a proof by that key; "" when the request had no dpop_jkt.
	DPoPJKT string
	// AuthorizationDetails are those the user consented to (RFC 9396
	// §2); nil when none were requested.
	AuthorizationDetails json.RawMessage
}

// TokenFamily is one grant: the tokens issued from one authorization code
// (or one JWT bearer assertion) and the refresh tokens rotated from them. Access tokens carry its ID, so
// revoking the family makes them inactive (RFC 7009 §2.1).
type TokenFamily struct {
	WorkspaceID string
	ID          string
	ClientID    string
	UserID      string
	SessionID   string
	Scopes      []string
	AuthTime    time.Time
	AMR         []string
	ACR         string
	Claims      json.RawMessage
	// GrantType is the grant that started the family: the JWT bearer
	// grant, or the authorization code flow ("" in families recorded
	// before this field, all of them from the code flow).
	GrantType string
	// Refresh is true when the family has refresh tokens.
	Refresh bool
	// Generation is that of the current refresh token (1 for the first).
	Generation int
	CreatedAt  time.Time
	RotatedAt  time.Time
	LastUsedAt time.Time
	// ExpiresAt is the absolute end of the refresh tokens (zero: none).
	ExpiresAt time.Time
	// IdleTTL ends the family when no refresh happened for that long (0: none).
	IdleTTL   time.Duration
	RevokedAt time.Time
	// SuccessorSealed is the current refresh token encrypted under the
	// master key, kept so that a retry within the grace period gets the
	// same successor (SECURITY.md H11); nil without a grace period.
	SuccessorSealed []byte
	// DPoPJKT binds the family's refresh tokens to a DPoP key (RFC 9449
	// §5, public clients): a refresh needs a proof by that key.
	DPoPJKT string
	// CertThumbprint binds the family's refresh tokens to a TLS client
	// certificate (RFC 8705 §4, public clients; its x5t#S256): a refresh
	// needs a connection presenting that certificate.
	CertThumbprint string
	// ParentFamilyID is set on a family begun by token exchange (RFC 8693)
	// from a subject token of another family: that family, or its own
	// parent when it was itself exchanged. Revoking it ends this family
	// too (readers check it: refresh, introspection).
	ParentFamilyID string
	// AuthorizationDetails are the details granted (RFC 9396 §2); a
	// refresh may narrow them for its access token, never widen (§7).
	AuthorizationDetails json.RawMessage
}

// Live reports whether the family's refresh tokens may still be used at now.
func (f TokenFamily) Live(now time.Time) bool {
	switch {
	case !f.RevokedAt.IsZero():
		return false
	case !f.ExpiresAt.IsZero() && !now.Before(f.ExpiresAt):
		return false
	case f.IdleTTL > 0 && !now.Before(f.LastUsedAt.Add(f.IdleTTL)):
		return false
	}
	return true
}

// RefreshRotation asks RotateRefreshToken to redeem the refresh token with
// Hash at Now. In one transaction the store finds the token's family and:
//
//   - current generation, family live: with NewHash set, advances the
//     generation with one conditional UPDATE and records NewHash as the
//     next generation (rotation); with NewHash nil only LastUsedAt moves
//     (no rotation). Outcome RotationRotated.
//   - the previous generation within Grace of the rotation: nothing
//     changes, Outcome RotationGrace (the caller returns SuccessorSealed).
//   - any other older generation: the family is revoked and the error is
//     ErrRefreshReused (SECURITY.md H1).
//   - unknown token, revoked or expired family: ErrNotFound.
type RefreshRotation struct {
	WorkspaceID     string
	Hash            []byte
	NewHash         []byte
	SuccessorSealed []byte
	Grace           time.Duration
	Now             time.Time
}

// Rotation outcomes.
const (
	RotationRotated = "rotated"
	RotationGrace   = "grace"
)

// RotationResult is the family after a successful RotateRefreshToken.
type RotationResult struct {
	Family  TokenFamily
	Outcome string
}

// Consent is what a user allowed a client (OIDC Core §3.1.2.4).
type Consent struct {
	WorkspaceID string
	UserID      string
	ClientID    string
	Scopes      []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// LoginCounter counts sign-in attempts for one key (an account or a source
// address) within a window, for progressive delays (SECURITY.md K7, N3).
type LoginCounter struct {
	Attempts    int
	WindowStart time.Time
	LastAt      time.Time
	// NextAllowed is when the next attempt may be made.
	NextAllowed time.Time
	// ExpiresAt is when the counter may be forgotten.
	ExpiresAt time.Time
}

// RefreshTokenSettings are a client's refresh token settings (RFC 6749 §6,
// RFC 9700 §4.14).
type RefreshTokenSettings struct {
	// Always issues refresh tokens from the code flow even without the
	// offline_access scope.
	Always bool `json:"always,omitempty"`
	// NoRotation keeps the same refresh token on refresh (confidential
	// clients only; public clients always rotate, RFC 9700 §2.2.2).
	NoRotation bool `json:"no_rotation,omitempty"`
	// GracePeriod lets a retry of the previous token get the same successor.
	GracePeriod time.Duration `json:"grace_period,omitempty"`
	// IdleTTL and AbsoluteTTL end a family (0: the defaults).
	IdleTTL     time.Duration `json:"idle_ttl,omitempty"`
	AbsoluteTTL time.Duration `json:"absolute_ttl,omitempty"`
}

// Branding is a workspace's look on its user-facing pages. The service
// layer accepts only an https (or loopback http) logo URL and colours of
// the form #rrggbb, so the pages can use them without escaping tricks.
type Branding struct {
	DisplayName     string `json:"display_name,omitempty"`
	LogoURI         string `json:"logo_uri,omitempty"`
	PrimaryColor    string `json:"primary_color,omitempty"`
	BackgroundColor string `json:"background_color,omitempty"`
}
