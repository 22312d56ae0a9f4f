package adminclient

import (
	"encoding/json"
	"time"
)

// --- workspaces

// Workspace is a tenant: its own issuer, keys, services and clients.
type Workspace struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	// Issuer is {base_url}/w/{id}; empty when the server has no base URL.
	Issuer    string    `json:"issuer,omitempty"`
	Settings  Settings  `json:"settings"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Settings are a workspace's token and key settings. Durations are seconds.
type Settings struct {
	AccessTokenTTL int64 `json:"access_token_ttl"`
	// AllowedAuthMethods lists the token endpoint authentication methods
	// clients may register; empty allows all.
	AllowedAuthMethods      []string `json:"allowed_auth_methods"`
	SigningAlg              string   `json:"signing_alg"`
	KeyRotationPeriod       int64    `json:"key_rotation_period"`
	MaxAssertionLifetime    int64    `json:"max_assertion_lifetime"`
	StrictAssertionAudience bool     `json:"strict_assertion_audience"`
	Branding                Branding `json:"branding"`
	// DPoPNonce: DPoP proofs must carry a server nonce (RFC 9449 §8).
	DPoPNonce bool `json:"dpop_nonce"`
	// RequirePushedAuthorizationRequests: every client's authorization
	// requests must come through the PAR endpoint (RFC 9126 §5).
	RequirePushedAuthorizationRequests bool `json:"require_pushed_authorization_requests"`
	// PushedRequestTTL: seconds a request_uri from the PAR endpoint stays
	// valid (RFC 9126 §2.2), 10..600; the default is 60.
	PushedRequestTTL int64 `json:"pushed_request_ttl"`
	// FAPIProfile: "" (off), "fapi2-security" or "fapi2-message-signing"
	// (docs/fapi.md).
	FAPIProfile string `json:"fapi_profile"`
}

// Branding is how a workspace's sign-in, consent and account pages look.
// Every member is always present; "" means the page default (the
// workspace name, no logo, the built-in colours).
type Branding struct {
	DisplayName     string `json:"display_name"`
	LogoURI         string `json:"logo_uri"`
	PrimaryColor    string `json:"primary_color"`
	BackgroundColor string `json:"background_color"`
}

// WorkspaceRequest creates (POST) or changes (PATCH) a workspace. On
// create, ID and Name are required; on update ID, when set, must equal the
// workspace's.
type WorkspaceRequest struct {
	ID       *string          `json:"id,omitempty"`
	Name     *string          `json:"name,omitempty"`
	Enabled  *bool            `json:"enabled,omitempty"`
	Settings *SettingsRequest `json:"settings,omitempty"`
}

// SettingsRequest changes the settings that are set. On create a
// KeyRotationPeriod of 0 takes the server default and a negative one
// disables scheduled rotation.
type SettingsRequest struct {
	AccessTokenTTL          *int64           `json:"access_token_ttl,omitempty"`
	AllowedAuthMethods      *[]string        `json:"allowed_auth_methods,omitempty"`
	SigningAlg              *string          `json:"signing_alg,omitempty"`
	KeyRotationPeriod       *int64           `json:"key_rotation_period,omitempty"`
	MaxAssertionLifetime    *int64           `json:"max_assertion_lifetime,omitempty"`
	StrictAssertionAudience *bool            `json:"strict_assertion_audience,omitempty"`
	Branding                *BrandingRequest `json:"branding,omitempty"`
	// DPoPNonce: DPoP proofs must carry a server nonce (RFC 9449 §8).
	DPoPNonce *bool `json:"dpop_nonce,omitempty"`
	// RequirePushedAuthorizationRequests: see Settings.
	RequirePushedAuthorizationRequests *bool `json:"require_pushed_authorization_requests,omitempty"`
	// PushedRequestTTL: see Settings; 0 returns to the default.
	PushedRequestTTL *int64 `json:"pushed_request_ttl,omitempty"`
	// FAPIProfile: see Settings; "" turns the profile off.
	FAPIProfile *string `json:"fapi_profile,omitempty"`
}

// BrandingRequest changes the branding members that are set; "" clears
// one (RFC 7396 merge semantics for this object).
type BrandingRequest struct {
	DisplayName     *string `json:"display_name,omitempty"`
	LogoURI         *string `json:"logo_uri,omitempty"`
	PrimaryColor    *string `json:"primary_color,omitempty"`
	BackgroundColor *string `json:"background_color,omitempty"`
}

// --- services

// Scope is one scope of a service. Scope names are unique within a
// workspace.
type Scope struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Service is a resource server: Identifier is the audience of tokens
// carrying its scopes.
type Service struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Identifier  string    `json:"identifier"`
	Scopes      []Scope   `json:"scopes"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`

	// AuthorizationDetailTypes are the service's RFC 9396 types.
	AuthorizationDetailTypes []AuthorizationDetailType `json:"authorization_detail_types"`
}

// ServiceRequest creates or changes a service. On create Name and
// Identifier are required and an absent ID is generated; on update Scopes
// replaces the whole list.
type ServiceRequest struct {
	ID          *string  `json:"id,omitempty"`
	Name        *string  `json:"name,omitempty"`
	Description *string  `json:"description,omitempty"`
	Identifier  *string  `json:"identifier,omitempty"`
	Scopes      *[]Scope `json:"scopes,omitempty"`

	// AuthorizationDetailTypes, when set, replaces the whole list.
	AuthorizationDetailTypes *[]AuthorizationDetailType `json:"authorization_detail_types,omitempty"`
}

// --- clients

// OAuthClient is a registered application (the API's "client").
type OAuthClient struct {
	ClientID                    string            `json:"client_id"`
	Name                        string            `json:"name"`
	Description                 string            `json:"description"`
	ContactEmail                string            `json:"contact_email"`
	Type                        string            `json:"type"`
	ApplicationType             string            `json:"application_type"` // inferred when not stored
	Enabled                     bool              `json:"enabled"`
	GrantTypes                  []string          `json:"grant_types"`
	ResponseTypes               []string          `json:"response_types"`
	RedirectURIs                []string          `json:"redirect_uris"`
	Scopes                      []string          `json:"scopes"`
	TokenEndpointAuthMethod     string            `json:"token_endpoint_auth_method"`
	TokenEndpointAuthSigningAlg string            `json:"token_endpoint_auth_signing_alg,omitempty"`
	JWKS                        json.RawMessage   `json:"jwks,omitempty"`
	JWKSURI                     string            `json:"jwks_uri,omitempty"`
	AccessTokenTTL              int64             `json:"access_token_ttl"`
	Metadata                    map[string]string `json:"metadata"`
	// Dynamic marks a client registered through RFC 7591.
	Dynamic   bool      `json:"dynamic,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// ClientSecret is present only in create, rotate-secret and (when a
	// first secret was issued) update responses (docs/security.md D3).
	ClientSecret string `json:"client_secret,omitempty"`
	// Warnings are things the administrator should know about the
	// client's settings, such as a subject_format that changes when the
	// user is renamed; absent when there are none. Every response carries
	// them, so the warning is seen on create, update and read alike.
	Warnings []string `json:"warnings,omitempty"`
	ClientFlow
}

// ClientFlow is the part of a client about the authorization code flow:
// consent page presentation, OpenID Connect and refresh token settings.
// Its members sit at the top level of the client document, like the RFC
// 7591 metadata they mirror. Responses carry every member but
// RefreshTokens, which is absent when the client has none.
type ClientFlow struct {
	PolicyURI                *string               `json:"policy_uri,omitempty"`
	TOSURI                   *string               `json:"tos_uri,omitempty"`
	ClientURI                *string               `json:"client_uri,omitempty"`
	LogoURI                  *string               `json:"logo_uri,omitempty"`
	Trusted                  *bool                 `json:"trusted,omitempty"`
	RequirePKCE              *bool                 `json:"require_pkce,omitempty"`
	SubjectType              *string               `json:"subject_type,omitempty"`
	SubjectFormat            *string               `json:"subject_format,omitempty"`
	SectorIdentifierURI      *string               `json:"sector_identifier_uri,omitempty"`
	PostLogoutRedirectURIs   *[]string             `json:"post_logout_redirect_uris,omitempty"`
	IDTokenSignedResponseAlg *string               `json:"id_token_signed_response_alg,omitempty"`
	RefreshTokens            *RefreshTokenSettings `json:"refresh_tokens,omitempty"`
	// AccessTokenFormat is "jwt" (RFC 9068, the default) or "opaque"
	// (reference tokens that only introspection resolves).
	AccessTokenFormat *string `json:"access_token_format,omitempty"`
	// IDTokenTTL is the ID token lifetime in seconds; 0 means the access
	// token's.
	IDTokenTTL *int64 `json:"id_token_ttl,omitempty"`
	// DPoPBoundAccessTokens requires a DPoP proof on every token request
	// of the client, so its access tokens are always DPoP-bound (RFC 9449
	// §5.2).
	DPoPBoundAccessTokens *bool `json:"dpop_bound_access_tokens,omitempty"`
	// Pushed and signed authorization requests and responses:
	// RequestObjectSigningAlg accepts the client's requests only as
	// request objects signed with it (RFC 9101, OIDC Registration §2);
	// RequirePushedAuthorizationRequests only through PAR (RFC 9126 §6);
	// the Authorization* members sign and encrypt JARM responses (JARM §3).
	RequestObjectSigningAlg            *string `json:"request_object_signing_alg,omitempty"`
	RequirePushedAuthorizationRequests *bool   `json:"require_pushed_authorization_requests,omitempty"`
	AuthorizationSignedResponseAlg     *string `json:"authorization_signed_response_alg,omitempty"`
	AuthorizationEncryptedResponseAlg  *string `json:"authorization_encrypted_response_alg,omitempty"`
	AuthorizationEncryptedResponseEnc  *string `json:"authorization_encrypted_response_enc,omitempty"`
	// Mutual TLS (RFC 8705): the certificate subject a tls_client_auth
	// client registers (§2.1.2, exactly one of the five), and
	// certificate-bound access tokens (§3, cnf.x5t#S256).
	TLSClientAuthSubjectDN                *string `json:"tls_client_auth_subject_dn,omitempty"`
	TLSClientAuthSANDNS                   *string `json:"tls_client_auth_san_dns,omitempty"`
	TLSClientAuthSANURI                   *string `json:"tls_client_auth_san_uri,omitempty"`
	TLSClientAuthSANIP                    *string `json:"tls_client_auth_san_ip,omitempty"`
	TLSClientAuthSANEmail                 *string `json:"tls_client_auth_san_email,omitempty"`
	TLSClientCertificateBoundAccessTokens *bool   `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	// Logout channels: BackchannelLogoutURI receives logout tokens when
	// a session the client was issued tokens in ends (OpenID Connect
	// Back-Channel Logout 1.0 §2.2); FrontchannelLogoutURI is loaded in an
	// iframe of the signed-out page (Front-Channel Logout 1.0 §2). Both
	// https (http only on loopback), without a fragment.
	BackchannelLogoutURI              *string `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired  *bool   `json:"backchannel_logout_session_required,omitempty"`
	FrontchannelLogoutURI             *string `json:"frontchannel_logout_uri,omitempty"`
	FrontchannelLogoutSessionRequired *bool   `json:"frontchannel_logout_session_required,omitempty"`
	// Backchannel authentication (OpenID Connect CIBA Core 1.0 §4):
	// delivery mode "poll" or "ping" ("" = none), the https notification
	// endpoint of ping mode, and user_code support (always false).
	BackchannelTokenDeliveryMode          *string `json:"backchannel_token_delivery_mode,omitempty"`
	BackchannelClientNotificationEndpoint *string `json:"backchannel_client_notification_endpoint,omitempty"`
	BackchannelUserCodeParameter          *bool   `json:"backchannel_user_code_parameter,omitempty"`
	// AuthorizationDetailsTypes are the RFC 9396 authorization_details
	// types the client may use (§10); empty allows every type of a
	// service the client is allowed a scope of. Each must be declared by a
	// service of the workspace.
	AuthorizationDetailsTypes *[]string `json:"authorization_details_types,omitempty"`
}

// RefreshTokenSettings are a client's refresh token rules; durations are
// seconds.
type RefreshTokenSettings struct {
	Always      bool  `json:"always"`
	NoRotation  bool  `json:"no_rotation"`
	GracePeriod int64 `json:"grace_period"`
	IdleTTL     int64 `json:"idle_ttl"`
	AbsoluteTTL int64 `json:"absolute_ttl"`
}

// OAuthClientRequest registers (POST) or changes (PATCH) a client. On
// create Name is required and an absent ClientID is generated; ClientID
// never changes. JWKS left empty keeps the stored key set and
// json.RawMessage("null") clears it.
type OAuthClientRequest struct {
	ClientID                    *string            `json:"client_id,omitempty"`
	Name                        *string            `json:"name,omitempty"`
	Description                 *string            `json:"description,omitempty"`
	ContactEmail                *string            `json:"contact_email,omitempty"`
	Type                        *string            `json:"type,omitempty"`
	ApplicationType             *string            `json:"application_type,omitempty"`
	Enabled                     *bool              `json:"enabled,omitempty"`
	GrantTypes                  *[]string          `json:"grant_types,omitempty"`
	ResponseTypes               *[]string          `json:"response_types,omitempty"`
	RedirectURIs                *[]string          `json:"redirect_uris,omitempty"`
	Scopes                      *[]string          `json:"scopes,omitempty"`
	TokenEndpointAuthMethod     *string            `json:"token_endpoint_auth_method,omitempty"`
	TokenEndpointAuthSigningAlg *string            `json:"token_endpoint_auth_signing_alg,omitempty"`
	JWKS                        json.RawMessage    `json:"jwks,omitempty"`
	JWKSURI                     *string            `json:"jwks_uri,omitempty"`
	AccessTokenTTL              *int64             `json:"access_token_ttl,omitempty"`
	Metadata                    *map[string]string `json:"metadata,omitempty"`
	ClientFlow
}

// --- keys

// Key is the metadata of a signing key (never its private material).
type Key struct {
	KID         string     `json:"kid"`
	Alg         string     `json:"alg"`
	State       string     `json:"state"` // next, active or retired
	CreatedAt   time.Time  `json:"created_at"`
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	// RetireUntil is when a retired key leaves the published key set.
	RetireUntil *time.Time `json:"retire_until,omitempty"`
}

// RotateKeysRequest is the optional body of a key rotation: Alg switches
// the workspace's signing algorithm.
type RotateKeysRequest struct {
	Alg string `json:"alg,omitempty"`
}

// --- initial access tokens

// InitialAccessToken authorizes dynamic client registrations (RFC 7591).
type InitialAccessToken struct {
	ID          string     `json:"id"`
	Description string     `json:"description"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	// UsesLeft is nil for unlimited tokens.
	UsesLeft  *int      `json:"uses_left"`
	CreatedAt time.Time `json:"created_at"`
	// Policy limits what registrations with the token may ask for.
	Policy RegistrationPolicy `json:"policy"`
	// Token is the bearer value (lki_...), present only in the create
	// response.
	Token string `json:"token,omitempty"`
}

// RegistrationPolicy limits the registrations of an initial access token
// (docs/security.md R2). In responses every list is present; an empty one
// means "no restriction", except GrantTypes, which is always filled. In a
// request, nil lists take the narrow defaults.
type RegistrationPolicy struct {
	GrantTypes          []string `json:"grant_types"`
	Scopes              []string `json:"scopes"`
	AuthMethods         []string `json:"auth_methods"`
	ApplicationTypes    []string `json:"application_types"`
	RedirectURIPatterns []string `json:"redirect_uri_patterns"`
	AllowImpersonation  bool     `json:"allow_impersonation"`
}

// InitialAccessTokenRequest creates an initial access token. ExpiresIn is
// seconds (0: never expires); MaxUses 0 is unlimited.
type InitialAccessTokenRequest struct {
	Description string              `json:"description"`
	ExpiresIn   int64               `json:"expires_in"`
	MaxUses     int                 `json:"max_uses"`
	Policy      *RegistrationPolicy `json:"policy,omitempty"`
}
