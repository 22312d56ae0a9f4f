package storage

import (
	"context"
	"time"
)

// Directory is the part of Storage that holds the people and keys behind
// the JWT bearer grant: users, profiles, client certificates and trusted
// external issuers. Everything is scoped to one workspace: no method ever
// returns an object of another workspace.
type Directory interface {
	// Users. Username is unique per workspace; Email (when not empty) is
	// unique per workspace case-insensitively; ExternalID (when not empty)
	// is unique per workspace. A conflict is ErrAlreadyExists.
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, workspaceID, id string) (User, error)
	// GetUserByUsername, GetUserByEmail (case-insensitive) and
	// GetUserByExternalID find a user by one of its unique fields.
	GetUserByUsername(ctx context.Context, workspaceID, username string) (User, error)
	GetUserByEmail(ctx context.Context, workspaceID, email string) (User, error)
	GetUserByExternalID(ctx context.Context, workspaceID, externalID string) (User, error)
	// ListUsers pages users by ID; Query matches ID, username or email.
	ListUsers(ctx context.Context, workspaceID string, opts ListOptions) (Page[User], error)
	UpdateUser(ctx context.Context, workspaceID, id string, updater func(User) (User, error)) (User, error)
	DeleteUser(ctx context.Context, workspaceID, id string) error

	// Profiles (named groups of users). Name is unique per workspace.
	CreateProfile(ctx context.Context, p Profile) error
	GetProfile(ctx context.Context, workspaceID, id string) (Profile, error)
	ListProfiles(ctx context.Context, workspaceID string, opts ListOptions) (Page[Profile], error)
	UpdateProfile(ctx context.Context, workspaceID, id string, updater func(Profile) (Profile, error)) (Profile, error)
	DeleteProfile(ctx context.Context, workspaceID, id string) error

	// Client certificates. KID is unique per client (ErrAlreadyExists);
	// a missing client is ErrNotFound. Lists are ordered by CreatedAt, KID.
	CreateClientCertificate(ctx context.Context, c ClientCertificate) error
	ListClientCertificates(ctx context.Context, workspaceID, clientID string) ([]ClientCertificate, error)
	DeleteClientCertificate(ctx context.Context, workspaceID, clientID, kid string) error

	// Trusted external issuers. Issuer (the URL) is unique per workspace.
	CreateTrustedIssuer(ctx context.Context, ti TrustedIssuer) error
	GetTrustedIssuer(ctx context.Context, workspaceID, id string) (TrustedIssuer, error)
	// GetTrustedIssuerByIssuer finds the issuer whose Issuer equals iss exactly.
	GetTrustedIssuerByIssuer(ctx context.Context, workspaceID, iss string) (TrustedIssuer, error)
	ListTrustedIssuers(ctx context.Context, workspaceID string, opts ListOptions) (Page[TrustedIssuer], error)
	UpdateTrustedIssuer(ctx context.Context, workspaceID, id string, updater func(TrustedIssuer) (TrustedIssuer, error)) (TrustedIssuer, error)
	DeleteTrustedIssuer(ctx context.Context, workspaceID, id string) error
}

// Change kinds of the directory (see Change).
const (
	ChangeUser          = "user"
	ChangeProfile       = "profile"
	ChangeCertificates  = "certificates"   // Key is the client ID
	ChangeTrustedIssuer = "trusted_issuer" // Key is the issuer's ID
)

// User is a person or service account of a workspace that JWT bearer
// assertions map to.
type User struct {
	WorkspaceID string
	ID          string
	Username    string
	Email       string // stored as given; compared case-insensitively
	DisplayName string
	ExternalID  string
	Active      bool
	// ServiceUser marks an account that never signs in interactively; only
	// service users may be named by a trusted issuer's claim mapping or by
	// a client's ServiceUserID.
	ServiceUser bool
	Profiles    []string // profile IDs
	Attributes  map[string]string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Profile is a named group of users (like a Salesforce profile), used by
// client pre-authorization.
type Profile struct {
	WorkspaceID string
	ID          string
	Name        string
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ClientCertificate is an X.509 certificate uploaded to a client; its public
// key verifies the client's JWT bearer assertions.
type ClientCertificate struct {
	WorkspaceID string
	ClientID    string
	KID         string // x5t#S256 by default, or set by the admin
	DER         []byte // the certificate, DER encoded
	Subject     string
	Issuer      string
	Serial      string // hexadecimal
	NotBefore   time.Time
	NotAfter    time.Time
	// ThumbprintS256 is the base64url SHA-256 of DER (RFC 7515 §4.1.8).
	ThumbprintS256 string
	CreatedAt      time.Time
}

// Identity mapping formats of a trusted issuer's claim.
const (
	ClaimFormatPlain          = "plain"            // the claim is the username
	ClaimFormatTenantUsername = "tenant||username" // "tenant||username"; the part after "||" is the username
	ClaimFormatEmail          = "email"            // the claim is an email address
)

// TrustedIssuer is an external token issuer whose JWTs are accepted as JWT
// bearer assertions in one workspace.
type TrustedIssuer struct {
	WorkspaceID string
	ID          string
	Name        string
	Issuer      string // exact "iss" value
	JWKSURI     string // one of JWKSURI and JWKS
	JWKS        []byte // inline public key set
	// Audience is the "aud" (App ID) its assertions must carry; when empty
	// the workspace issuer or token endpoint is required.
	Audience string
	// AllowedClients may present this issuer's assertions (besides the
	// clients that list this issuer in AllowedTrustedIssuers).
	AllowedClients       []string
	MaxAssertionLifetime time.Duration // 0: DefaultMaxAssertionLifetime of the grant
	Enabled              bool
	// Identity mapping: ServiceUserID, when set, is the user of every
	// assertion; otherwise Claim names the claim and ClaimFormat its format.
	ServiceUserID string
	Claim         string
	ClaimFormat   string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// User fields a JWT bearer assertion's subject is matched against.
const (
	UserFieldUsername   = "username"
	UserFieldEmail      = "email"
	UserFieldUserID     = "user_id"
	UserFieldExternalID = "external_id"
)

// Pre-authorization policies of the JWT bearer grant.
const (
	PreAuthAllUsers      = "all_users"      // all users may self-authorize
	PreAuthAdminApproved = "admin_approved" // only the listed profiles and users
)

// JWTBearerSettings are a client's settings for the JWT bearer grant.
type JWTBearerSettings struct {
	UserField string `json:"user_field,omitempty"` // default UserFieldUsername
	PreAuth   string `json:"pre_auth,omitempty"`   // default PreAuthAllUsers
	// AllowedProfiles and AllowedUsers (IDs) are pre-authorized under
	// PreAuthAdminApproved.
	AllowedProfiles []string `json:"allowed_profiles,omitempty"`
	AllowedUsers    []string `json:"allowed_users,omitempty"`
	// ExtraAudiences are accepted as aud besides the workspace issuer, the
	// token endpoint and the client_id (for instance a login URL).
	ExtraAudiences []string `json:"extra_audiences,omitempty"`
	// MaxAssertionLifetime bounds exp-iat and exp-now; 0 means 60 minutes.
	MaxAssertionLifetime time.Duration `json:"max_assertion_lifetime,omitempty"`
	// AllowHS256 lets the client sign assertions with HS256 keyed by its
	// client secret.
	AllowHS256 bool `json:"allow_hs256,omitempty"`
	// RefreshTokens asks for refresh tokens on this grant.
	RefreshTokens bool `json:"refresh_tokens,omitempty"`
	// AllowedTrustedIssuers (IDs) whose assertions this client may present.
	AllowedTrustedIssuers []string `json:"allowed_trusted_issuers,omitempty"`
}
