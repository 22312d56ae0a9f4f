package storage

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"
)

// Sentinel errors. Check them with errors.Is.
var (
	ErrNotFound      = errors.New("storage: not found")
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrUnavailable: the database could not serve the call now but may on
	// a retry: the caller's deadline passed or it gave up, the database was
	// locked by another writer past that deadline, out of resources, or
	// unreachable. A write that failed with it was not committed. Handlers
	// answer it with 503 and Retry-After (docs/security.md R5, R6).
	ErrUnavailable = errors.New("storage: unavailable")
)

// Storage is implemented by every backend. Methods are safe for concurrent
// use by many goroutines and by many processes sharing one database.
//
// Update* methods run a read-modify-write in one transaction: the updater
// receives the current value and returns the new one. The updater may run
// more than once (on a serialization retry) and must have no side effects.
// Returning an error from the updater aborts the update and returns that
// error unchanged. The row is locked while the updater runs, so an updater
// that refuses unless the row holds the value it expects is a
// compare-and-swap, atomic across processes: of concurrent callers
// expecting one value exactly one succeeds (conformance
// UpdateClientCompareAndSwap; the RFC 7592 registration access token
// rotation relies on it).
type Storage interface {
	// Directory holds users, profiles, client certificates and trusted
	// issuers (directory.go).
	Directory
	// Console holds admin users, sessions, audit events and the mail
	// outbox of the web console (console.go).
	Console
	// AuthFlow holds passwords, browser sessions, authorization requests
	// and codes, refresh-token families, consents and sign-in counters of
	// the authorization code flow (authflow.go).
	AuthFlow
	// OpaqueTokens holds opaque access tokens (opaque.go).
	OpaqueTokens
	// Policies holds the CEL policies and their versions (policy.go).
	Policies
	// DeviceCodes holds device authorizations (RFC 8628, devicecodes.go).
	DeviceCodes
	// CIBARequests holds backchannel authentication requests (CIBA,
	// ciba.go).
	CIBARequests
	// PushedRequests holds pushed authorization requests (pushed.go).
	PushedRequests
	// EncryptionKeys holds the workspaces' request object decryption
	// keys (encryptionkeys.go).
	EncryptionKeys
	// LogoutQueue holds back-channel logout messages (logoutqueue.go).
	LogoutQueue
	// StatusLists holds the token status lists' indexes (statuslists.go).
	StatusLists

	// Ping checks that the database is reachable (used by /readyz).
	Ping(ctx context.Context) error
	// CheckWritable checks that a write could start now: it takes the
	// write lock a write would take, changes nothing and rolls back (used
	// by /readyz; docs/security.md R7). Failures wrap ErrUnavailable.
	CheckWritable(ctx context.Context) error
	Close() error

	// Workspaces.
	CreateWorkspace(ctx context.Context, w Workspace) error
	GetWorkspace(ctx context.Context, id string) (Workspace, error)
	ListWorkspaces(ctx context.Context, opts ListOptions) (Page[Workspace], error)
	UpdateWorkspace(ctx context.Context, id string, updater func(Workspace) (Workspace, error)) (Workspace, error)
	// DeleteWorkspace removes the workspace and everything in it. In the
	// same transaction it ends every admin token's power over it
	// (AdminToken.WithoutWorkspace): a workspace ID can be created again,
	// and a token naming the old one must not reach the new one
	// (docs/security.md O2, O5).
	DeleteWorkspace(ctx context.Context, id string) error

	// Services (resource servers) and their scopes. Scope names are unique
	// within a workspace across all its services, and service identifiers
	// (audiences) are unique within a workspace: a conflict is
	// ErrAlreadyExists.
	CreateService(ctx context.Context, s Service) error
	GetService(ctx context.Context, workspaceID, id string) (Service, error)
	ListServices(ctx context.Context, workspaceID string, opts ListOptions) (Page[Service], error)
	UpdateService(ctx context.Context, workspaceID, id string, updater func(Service) (Service, error)) (Service, error)
	DeleteService(ctx context.Context, workspaceID, id string) error
	// ListScopes returns every scope of the workspace, ordered by name.
	ListScopes(ctx context.Context, workspaceID string) ([]ScopeRef, error)

	// Clients.
	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, workspaceID, id string) (Client, error)
	ListClients(ctx context.Context, workspaceID string, opts ListOptions) (Page[Client], error)
	UpdateClient(ctx context.Context, workspaceID, id string, updater func(Client) (Client, error)) (Client, error)
	DeleteClient(ctx context.Context, workspaceID, id string) error

	// Signing keys. UpdateSigningKeys replaces the workspace's whole key set
	// atomically: it locks the set (so that concurrent rotations from several
	// processes serialize), passes the current keys to the updater and
	// writes the returned set (inserting, updating and deleting by KID).
	ListSigningKeys(ctx context.Context, workspaceID string) ([]SigningKey, error)
	UpdateSigningKeys(ctx context.Context, workspaceID string, updater func([]SigningKey) ([]SigningKey, error)) ([]SigningKey, error)

	// UseJTI records a JWT ID as used. It is the single-use gate for client
	// assertions and JWT-bearer grants (RFC 7523 §3 item 7): it returns
	// ErrAlreadyExists when the same (workspace, namespace, issuer, jti)
	// was recorded before and has not yet expired. Exactly one of many
	// concurrent calls with the same key succeeds, across processes.
	UseJTI(ctx context.Context, j JTI) error

	// RevokeToken marks an access token (by its jti) as revoked; revoking
	// twice is not an error. IsTokenRevoked reads that mark.
	RevokeToken(ctx context.Context, r RevokedToken) error
	IsTokenRevoked(ctx context.Context, workspaceID, jti string) (bool, error)

	// Initial access tokens for dynamic client registration (RFC 7591 §3).
	CreateInitialAccessToken(ctx context.Context, t InitialAccessToken) error
	ListInitialAccessTokens(ctx context.Context, workspaceID string) ([]InitialAccessToken, error)
	DeleteInitialAccessToken(ctx context.Context, workspaceID, id string) error
	// ConsumeInitialAccessToken atomically spends one use of the token with
	// the given hash. It returns ErrNotFound when the token does not exist,
	// has expired (at now) or has no uses left.
	ConsumeInitialAccessToken(ctx context.Context, workspaceID string, hash []byte, now time.Time) (InitialAccessToken, error)
	// GetInitialAccessTokenByHash reads the token with the given hash
	// without spending a use (ErrNotFound when there is none); the caller
	// checks expiry and uses left.
	GetInitialAccessTokenByHash(ctx context.Context, workspaceID string, hash []byte) (InitialAccessToken, error)
	// CreateClientWithInitialAccessToken spends one use of the token with
	// the given hash and inserts c in one transaction: either both happen
	// or neither (RFC 7591 §3: only a successful registration spends the
	// token). It returns ErrNotFound, writing nothing, when the token does
	// not exist, has expired (at now) or has no uses left; exactly as many
	// concurrent calls succeed as the token had uses, across processes.
	CreateClientWithInitialAccessToken(ctx context.Context, c Client, hash []byte, now time.Time) error

	// Admin API credentials (hashed bearer tokens). CreateAdminToken
	// returns ErrNotFound, storing nothing, when a workspace of
	// t.Workspaces does not exist; it checks them in the insert's
	// transaction, so a concurrent DeleteWorkspace either comes first
	// (and the create fails) or finds the token and narrows it.
	CreateAdminToken(ctx context.Context, t AdminToken) error
	GetAdminTokenByHash(ctx context.Context, hash []byte) (AdminToken, error)
	ListAdminTokens(ctx context.Context) ([]AdminToken, error)
	// DeleteAdminToken removes a credential; ErrNotFound when absent.
	DeleteAdminToken(ctx context.Context, id string) error
	// TouchAdminToken sets the token's LastUsedAt to now when it is not
	// after notBefore (at most one write per interval, across processes).
	TouchAdminToken(ctx context.Context, id string, now, notBefore time.Time) error

	// Changes returns change events with ID > afterID in ID order, at most
	// limit of them. Every create, update and delete of a workspace,
	// service, client, policy or signing key set records one event in the same
	// transaction, so processes sharing a database can invalidate caches.
	Changes(ctx context.Context, afterID int64, limit int) ([]Change, error)
	// LastChangeID is the ID of the newest change event (0 if none).
	LastChangeID(ctx context.Context) (int64, error)

	// DeleteExpired removes used JTIs, revocation marks, opaque access
	// tokens and initial access tokens that expired before now, and change
	// events older than now-1h. It returns how many rows it removed.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}

// ListOptions selects one page of a list ordered by ID.
// After is the last ID of the previous page ("" for the first page).
// Limit is clamped by backends to [1, MaxPageSize]; 0 means DefaultPageSize.
// Query, when set, keeps rows whose ID or name (users: ID, username or
// email) starts with it, ignoring the case of A–Z (of every letter in
// emails); "%" and "_" are ordinary characters. A prefix is an index
// range (sqlstore/search.go); a substring would scan every row.
type ListOptions struct {
	After string
	Limit int
	Query string
}

// Page sizes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// Page is one page of a list. Next is the ID to pass as After for the next
// page, or "" when this is the last page.
type Page[T any] struct {
	Items []T
	Next  string
}

// Workspace is a tenant: its own issuer, keys, clients, services and settings.
type Workspace struct {
	ID        string // URL-safe slug; part of the issuer URL
	Name      string
	Enabled   bool
	Settings  WorkspaceSettings
	CreatedAt time.Time
	UpdatedAt time.Time
}

// WorkspaceSettings are the per-workspace knobs resolved on each request.
// Zero values mean "use the server default"; the service layer fills them.
type WorkspaceSettings struct {
	AccessTokenTTL time.Duration `json:"access_token_ttl"`
	// AllowedAuthMethods restricts which token endpoint auth methods
	// clients of this workspace may register.
	AllowedAuthMethods []string `json:"allowed_auth_methods"`
	// SigningAlg is the algorithm of the workspace's signing keys.
	SigningAlg string `json:"signing_alg"`
	// KeyRotationPeriod is how long a key stays active before the
	// scheduler rotates it; 0 disables scheduled rotation.
	KeyRotationPeriod time.Duration `json:"key_rotation_period"`
	// MaxAssertionLifetime bounds exp-iat (and exp-now) of client assertions.
	MaxAssertionLifetime time.Duration `json:"max_assertion_lifetime"`
	// StrictAssertionAudience accepts only the issuer, as a single string,
	// as the aud of client assertions (SECURITY.md B4). When false, the
	// token endpoint URL and arrays containing the issuer are accepted too.
	StrictAssertionAudience bool `json:"strict_assertion_audience"`
	// DPoPNonce makes the token endpoint and UserInfo require a server
	// nonce in DPoP proofs (RFC 9449 §8, §9); off by default.
	DPoPNonce bool `json:"dpop_nonce,omitempty"`
	// Branding is how the sign-in, consent and account pages present the
	// workspace; nil means the defaults.
	Branding *Branding `json:"branding,omitempty"`
	// DefaultUserPolicyID names the user policy of clients that attach
	// none; "" means none.
	DefaultUserPolicyID string `json:"default_user_policy_id,omitempty"`
	// RequirePushedAuthorizationRequests accepts authorization requests of
	// every client only through the PAR endpoint (RFC 9126 §5).
	RequirePushedAuthorizationRequests bool `json:"require_pushed_authorization_requests,omitempty"`
	// PushedRequestTTL is how long a request_uri from the PAR endpoint
	// stays valid (RFC 9126 §2.2 expires_in); 0 means the server default
	// (60 s). The service bounds it to 10-600 s.
	PushedRequestTTL time.Duration `json:"pushed_request_ttl,omitempty"`
	// FAPIProfile enforces a FAPI 2.0 profile on the whole workspace:
	// "" (off), "fapi2-security" or "fapi2-message-signing" (package fapi).
	FAPIProfile string `json:"fapi_profile,omitempty"`
}

// Service is a resource server. Identifier is the audience of tokens
// carrying its scopes.
type Service struct {
	WorkspaceID string
	ID          string
	Name        string
	Description string
	Identifier  string
	Scopes      []Scope
	// AccessPolicyID names a policy of kind access that decides who may
	// have this service's scopes; "" means none.
	AccessPolicyID string
	// ClaimMappings are extra claims computed by CEL for tokens that
	// carry this service's scopes (package policy).
	ClaimMappings []ClaimMapping
	// AuthorizationDetailTypes are the RFC 9396 §2 authorization_details
	// types the service accepts, each with a JSON Schema for its fields
	// (package authzdetails).
	AuthorizationDetailTypes []AuthorizationDetailType
	CreatedAt                time.Time
	UpdatedAt                time.Time
}

// AuthorizationDetailType is one authorization_details type of a service
// (RFC 9396 §2): its name, a description for people (the consent page)
// and the JSON Schema document its objects must satisfy.
type AuthorizationDetailType struct {
	Type        string          `json:"type"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
}

// Scope is one permission a service defines.
type Scope struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// ScopeRef is a scope together with the service that defines it.
type ScopeRef struct {
	Scope
	ServiceID         string
	ServiceIdentifier string
	// AccessPolicyID is the service's access policy ("" for none).
	AccessPolicyID string
	// ServiceClaimMappings are the service's claim mappings (shared by
	// its scopes: read only) and ServiceUpdatedAt their version.
	ServiceClaimMappings []ClaimMapping
	ServiceUpdatedAt     time.Time
	// ServiceAuthorizationDetailTypes are the service's RFC 9396 types
	// (shared by its scopes: read only).
	ServiceAuthorizationDetailTypes []AuthorizationDetailType
}

// ClaimMapping is one extra claim computed by a CEL expression over the
// policy context, and the places it goes: any of "access_token",
// "id_token", "userinfo", "introspection".
type ClaimMapping struct {
	Name       string   `json:"name"`
	Expression string   `json:"expression"`
	Targets    []string `json:"targets"`
}

// Client is a registered OAuth client application.
//
// Backends store the indexed columns (workspace, ID, name, enabled, times)
// as columns and the rest as one JSON document, so later features can add
// fields without a schema migration.
type Client struct {
	WorkspaceID string    `json:"-"`
	ID          string    `json:"-"`
	Name        string    `json:"-"`
	Enabled     bool      `json:"-"`
	CreatedAt   time.Time `json:"-"`
	UpdatedAt   time.Time `json:"-"`

	Description   string   `json:"description,omitempty"`
	ContactEmail  string   `json:"contact_email,omitempty"`
	Type          string   `json:"type"` // oauth2.ClientConfidential or oauth2.ClientPublic
	GrantTypes    []string `json:"grant_types,omitempty"`
	ResponseTypes []string `json:"response_types,omitempty"`
	RedirectURIs  []string `json:"redirect_uris,omitempty"`
	// Scopes the client may be granted. Empty means none.
	Scopes                  []string `json:"scopes,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	// TokenEndpointAuthSigningAlg pins the alg of client assertions; "" allows any in the allowlist.
	TokenEndpointAuthSigningAlg string `json:"token_endpoint_auth_signing_alg,omitempty"`
	// JWKS is an inline JSON Web Key Set (public keys only); JWKSURI a URL to fetch one.
	JWKS    []byte `json:"jwks,omitempty"`
	JWKSURI string `json:"jwks_uri,omitempty"`
	// AccessTokenTTL overrides the workspace default when > 0.
	AccessTokenTTL time.Duration     `json:"access_token_ttl,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	// AccessTokenFormat is AccessTokenJWT ("" reads as it) or
	// AccessTokenOpaque (reference tokens only introspection resolves).
	AccessTokenFormat string `json:"access_token_format,omitempty"`
	// IDTokenTTL overrides the ID token lifetime when > 0 (otherwise the
	// access token's).
	IDTokenTTL time.Duration `json:"id_token_ttl,omitempty"`
	// ClaimMappings are extra claims computed by CEL (package policy);
	// kept in the client's document so that they are versioned and
	// audited with it.
	ClaimMappings []ClaimMapping `json:"claim_mappings,omitempty"`

	// SecretCiphertext is the client secret encrypted under the master key
	// (AES-GCM, see package secrets); nil for clients without a secret.
	SecretCiphertext []byte    `json:"secret_enc,omitempty"`
	SecretRotatedAt  time.Time `json:"secret_rotated_at,omitzero"`
	// SecretExpiresAt is reported by dynamic registration (RFC 7591 §3.2.1); zero means never.
	SecretExpiresAt time.Time `json:"secret_expires_at,omitzero"`

	// RegistrationAccessTokenHash guards the RFC 7592 management endpoint
	// for clients created through dynamic registration.
	RegistrationAccessTokenHash []byte `json:"registration_access_token_hash,omitempty"`
	// Dynamic is true for clients created by dynamic registration.
	Dynamic bool `json:"dynamic,omitempty"`
	// InitialAccessTokenID names the initial access token that registered
	// a dynamic client, and RegistrationPolicy is a snapshot of its policy
	// taken then: RFC 7592 updates are checked against the snapshot, so
	// deleting the token never leaves the client unrestricted. A dynamic
	// client without a snapshot (registered before policies existed) gets
	// the default policy.
	InitialAccessTokenID string              `json:"initial_access_token_id,omitempty"`
	RegistrationPolicy   *RegistrationPolicy `json:"registration_policy,omitempty"`

	// --- Presentation and authorization-flow settings (console, sign-in).

	// PolicyURI, TOSURI, ClientURI and LogoURI are shown to people (RFC 7591
	// §2 policy_uri, tos_uri, client_uri, logo_uri). The service layer only
	// accepts https URLs (http on loopback) so that a console or consent
	// page can render them as links (SECURITY.md K10).
	PolicyURI string `json:"policy_uri,omitempty"`
	TOSURI    string `json:"tos_uri,omitempty"`
	ClientURI string `json:"client_uri,omitempty"`
	LogoURI   string `json:"logo_uri,omitempty"`
	// Trusted clients skip the consent screen (first-party applications).
	Trusted bool `json:"trusted,omitempty"`
	// RequirePKCE is nil for "required" (the default, RFC 9700 §2.1.1):
	// read it through PKCERequired.
	RequirePKCE *bool `json:"require_pkce,omitempty"`
	// SubjectType is "public" (or "") or "pairwise" (OIDC Core §8).
	SubjectType string `json:"subject_type,omitempty"`
	// SubjectFormat is what sub names: "id" (or ""), "username", "email"
	// or "pairwise"; read it through EffectiveSubjectFormat. The service
	// keeps SubjectType pairwise exactly when the format is pairwise.
	SubjectFormat string `json:"subject_format,omitempty"`
	// SectorIdentifierURI (OIDC Registration §5) names the sector of
	// pairwise subjects; empty means the host of the redirect URIs.
	SectorIdentifierURI string `json:"sector_identifier_uri,omitempty"`
	// PostLogoutRedirectURIs are matched exactly by RP-initiated logout.
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	// IDTokenSignedResponseAlg is the ID token alg ("" = the workspace's).
	IDTokenSignedResponseAlg string `json:"id_token_signed_response_alg,omitempty"`
	// RefreshTokens configures refresh tokens; nil means the defaults
	// (issued for offline_access, rotated, no grace).
	RefreshTokens *RefreshTokenSettings `json:"refresh_tokens,omitempty"`

	// --- JWT bearer grant settings.

	// JWTBearer configures the urn:ietf:params:oauth:grant-type:jwt-bearer
	// grant (RFC 7523 §2.1) for this client; nil means the defaults.
	JWTBearer *JWTBearerSettings `json:"jwt_bearer,omitempty"`
	// ServiceUserID names a service user of the workspace that becomes the
	// sub of this client's client_credentials tokens.
	ServiceUserID string `json:"service_user_id,omitempty"`

	// UserPolicyID names a policy of kind user checked when a user obtains
	// tokens through this client (authorization, JWT bearer, refresh);
	// "" means the workspace's default user policy, if any.
	UserPolicyID string `json:"user_policy_id,omitempty"`
	// MachinePolicyID names a policy of kind machine checked at
	// client_credentials; "" means none.
	MachinePolicyID string `json:"machine_policy_id,omitempty"`

	// ApplicationType is the stored kind of application: "web", "native"
	// or "spa" (OpenID Connect Registration §2 application_type) or
	// "service" (machine to machine). "" is a client stored before types
	// existed; read it through the service layer's rules.
	ApplicationType string `json:"application_type,omitempty"`

	// --- Pushed and signed authorization requests and responses (RFC 9126, RFC 9101, JARM).

	// RequestObjectSigningAlg pins the algorithm of the client's request
	// objects (RFC 9101 §10.2, OIDC Registration §2): when set, every
	// authorization request must come as a request object signed with it,
	// and unsigned or differently signed requests are refused with
	// invalid_request_object.
	RequestObjectSigningAlg string `json:"request_object_signing_alg,omitempty"`
	// RequirePushedAuthorizationRequests accepts the client's
	// authorization requests only through the PAR endpoint (RFC 9126 §6).
	RequirePushedAuthorizationRequests bool `json:"require_pushed_authorization_requests,omitempty"`
	// AuthorizationSignedResponseAlg is the alg of JWT-secured
	// authorization responses (JARM §3; "" = the workspace's).
	AuthorizationSignedResponseAlg string `json:"authorization_signed_response_alg,omitempty"`
	// AuthorizationEncryptedResponseAlg and AuthorizationEncryptedResponseEnc,
	// when set, encrypt those responses to the client's key (JARM §3).
	AuthorizationEncryptedResponseAlg string `json:"authorization_encrypted_response_alg,omitempty"`
	AuthorizationEncryptedResponseEnc string `json:"authorization_encrypted_response_enc,omitempty"`

	// --- Sender-constrained tokens (RFC 9449 DPoP).

	// DPoPBoundAccessTokens (RFC 9449 §5.2 dpop_bound_access_tokens)
	// makes the token endpoint refuse this client's requests that carry
	// no DPoP proof, so its access tokens are always DPoP-bound.
	DPoPBoundAccessTokens bool `json:"dpop_bound_access_tokens,omitempty"`

	// --- Rich authorization requests (RFC 9396).

	// AuthorizationDetailsTypes (RFC 9396 §10 client metadata) lists the
	// authorization_details types the client may use; empty means any
	// type of a service the client is allowed a scope of (package
	// authzdetails).
	AuthorizationDetailsTypes []string `json:"authorization_details_types,omitempty"`

	// --- Token exchange (RFC 8693).

	// TokenExchange configures the
	// urn:ietf:params:oauth:grant-type:token-exchange grant for this
	// client; nil (the default) allows no exchange at all, even with the
	// grant type.
	TokenExchange *TokenExchangeSettings `json:"token_exchange,omitempty"`

	// --- Device authorization (RFC 8628).

	// --- Logout channels (OpenID Connect Back-Channel and Front-Channel Logout 1.0).

	// BackchannelLogoutURI receives logout tokens when a session in which
	// the client was issued tokens ends (Back-Channel Logout §2.2).
	BackchannelLogoutURI string `json:"backchannel_logout_uri,omitempty"`
	// BackchannelLogoutSessionRequired: the client needs sid in logout
	// tokens (§2.2); Latchkey always sends it.
	BackchannelLogoutSessionRequired bool `json:"backchannel_logout_session_required,omitempty"`
	// FrontchannelLogoutURI is loaded in an iframe of the signed-out page
	// (Front-Channel Logout §2).
	FrontchannelLogoutURI string `json:"frontchannel_logout_uri,omitempty"`
	// FrontchannelLogoutSessionRequired adds iss and sid to that URI (§2).
	FrontchannelLogoutSessionRequired bool `json:"frontchannel_logout_session_required,omitempty"`

	// --- Mutual TLS (RFC 8705).

	// TLSClientAuth* register the certificate subject of a tls_client_auth
	// client (RFC 8705 §2.1.2): exactly one is set, and the presented
	// certificate must carry it (the subject DN in RFC 4514 form, or one
	// subjectAltName entry of that type).
	TLSClientAuthSubjectDN string `json:"tls_client_auth_subject_dn,omitempty"`
	TLSClientAuthSANDNS    string `json:"tls_client_auth_san_dns,omitempty"`
	TLSClientAuthSANURI    string `json:"tls_client_auth_san_uri,omitempty"`
	TLSClientAuthSANIP     string `json:"tls_client_auth_san_ip,omitempty"`
	TLSClientAuthSANEmail  string `json:"tls_client_auth_san_email,omitempty"`
	// TLSClientCertificateBoundAccessTokens binds the client's access
	// tokens to the certificate it presents (RFC 8705 §3, cnf.x5t#S256).
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`

	// --- Client-initiated backchannel authentication (CIBA).

	// BackchannelTokenDeliveryMode is "poll" or "ping" (CIBA Core §4,
	// §5); empty: the client cannot make backchannel authentication
	// requests even with the grant type.
	BackchannelTokenDeliveryMode string `json:"backchannel_token_delivery_mode,omitempty"`
	// BackchannelClientNotificationEndpoint is the https URL pinged when
	// a ping-mode request is decided (CIBA Core §4, §10.2); fetched
	// through the SSRF-safe client.
	BackchannelClientNotificationEndpoint string `json:"backchannel_client_notification_endpoint,omitempty"`
	// BackchannelUserCodeParameter is always false: Latchkey supports no
	// user_code (CIBA Core §4 backchannel_user_code_parameter_supported).
	BackchannelUserCodeParameter bool `json:"backchannel_user_code_parameter,omitempty"`

	// Extra holds client metadata of later features that the core does
	// not interpret (kept as raw JSON).
	Extra map[string]any `json:"extra,omitempty"`
}

// Signing key states (SECURITY.md P2, reliability invariant 5).
const (
	KeyNext    = "next"    // published in JWKS, not yet signing
	KeyActive  = "active"  // signs new tokens; exactly one per workspace
	KeyRetired = "retired" // published until RetireUntil, never signs
)

// SigningKey is one of a workspace's token signing keys.
type SigningKey struct {
	WorkspaceID string
	KID         string
	Alg         string
	State       string
	// PrivateCiphertext is the private key (PKCS#8 DER) encrypted under the master key.
	PrivateCiphertext []byte
	// PublicJWK is the public JWK as JSON, exactly as published.
	PublicJWK   []byte
	CreatedAt   time.Time
	ActivatedAt time.Time // zero until the key becomes active
	RetiredAt   time.Time // zero until the key is retired
	// RetireUntil is when a retired key may be removed from JWKS: after
	// every token it signed has expired.
	RetireUntil time.Time
}

// JTI is one use of a JWT ID. Namespace separates purposes (for instance
// "client_assertion" and "jwt_bearer") so one cannot burn the other's IDs
// (SECURITY.md B8).
type JTI struct {
	WorkspaceID string
	Namespace   string
	Issuer      string
	JTI         string
	ExpiresAt   time.Time
}

// RevokedToken marks an access token as revoked until it would have expired.
type RevokedToken struct {
	WorkspaceID string
	JTI         string
	ClientID    string
	ExpiresAt   time.Time
	RevokedAt   time.Time
}

// InitialAccessToken authorizes dynamic client registration (RFC 7591 §3).
// Only a hash of the bearer value is stored.
type InitialAccessToken struct {
	WorkspaceID string
	ID          string
	Hash        []byte
	Description string
	ExpiresAt   time.Time // zero: never
	UsesLeft    int       // -1: unlimited
	CreatedAt   time.Time
	// Policy limits what registrations with this token may ask for.
	Policy RegistrationPolicy
}

// RegistrationPolicy limits the metadata of clients registered with an
// initial access token (RFC 7591 §3 leaves the policy to the server). An
// empty list means "no restriction" for Scopes, AuthMethods,
// ApplicationTypes and RedirectURIPatterns; an empty GrantTypes means the
// service's narrow default. The service package documents the rules.
type RegistrationPolicy struct {
	GrantTypes       []string `json:"grant_types,omitempty"`
	Scopes           []string `json:"scopes,omitempty"`
	AuthMethods      []string `json:"auth_methods,omitempty"`
	ApplicationTypes []string `json:"application_types,omitempty"`
	// RedirectURIPatterns: see service.MatchRedirectURIPattern.
	RedirectURIPatterns []string `json:"redirect_uri_patterns,omitempty"`
	// AllowImpersonation permits grants that issue tokens for users (the
	// JWT bearer grant); off by default.
	AllowImpersonation bool `json:"allow_impersonation,omitempty"`
}

// AdminToken is an admin API bearer credential, stored as a hash.
type AdminToken struct {
	ID        string
	Name      string
	Hash      []byte
	CreatedAt time.Time
	// Role is one of AdminRoles; Workspaces lists the workspaces of the
	// two workspace roles (empty for RoleSuperAdmin), as for AdminUser.
	Role       string
	Workspaces []string
	ExpiresAt  time.Time // zero: never expires
	LastUsedAt time.Time // zero: never used; updated at most once a minute
	CreatedBy  string    // the audit actor name of the creator
}

// WithoutWorkspace is t once workspace ws is deleted, the one rule of
// DeleteWorkspace for every backend: ws leaves Workspaces, and a token of
// a workspace role left with no workspace is deleted (keep is false)
// rather than kept as a credential that reaches nothing. changed is false
// when t did not name ws.
func (t AdminToken) WithoutWorkspace(ws string) (next AdminToken, keep, changed bool) {
	if !slices.Contains(t.Workspaces, ws) {
		return t, true, false
	}
	t.Workspaces = slices.DeleteFunc(slices.Clone(t.Workspaces), func(w string) bool { return w == ws })
	if len(t.Workspaces) == 0 {
		t.Workspaces = nil
		return t, t.Role == RoleSuperAdmin, true
	}
	return t, true, true
}

// Change kinds.
const (
	ChangeWorkspace = "workspace"
	ChangeService   = "service"
	ChangeClient    = "client"
	ChangeKeys      = "keys"
)

// Change is a cache-invalidation event: Kind names what changed and Key
// its ID inside the workspace ("" for workspace and key-set changes).
type Change struct {
	ID          int64
	WorkspaceID string
	Kind        string
	Key         string
	At          time.Time
}
