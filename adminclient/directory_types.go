package adminclient

import (
	"encoding/json"
	"time"
)

// --- users

// User is a directory user: a JWT bearer subject, a sign-in identity, or a
// service user that becomes the subject of a client's tokens.
type User struct {
	ID          string            `json:"id"`
	Username    string            `json:"username"`
	Email       string            `json:"email"`
	DisplayName string            `json:"display_name"`
	ExternalID  string            `json:"external_id"`
	Active      bool              `json:"active"`
	ServiceUser bool              `json:"service_user"`
	Profiles    []string          `json:"profiles"`
	Attributes  map[string]string `json:"attributes"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// UserRequest creates or changes a user; ID is for create only.
type UserRequest struct {
	ID          *string            `json:"id,omitempty"`
	Username    *string            `json:"username,omitempty"`
	Email       *string            `json:"email,omitempty"`
	DisplayName *string            `json:"display_name,omitempty"`
	ExternalID  *string            `json:"external_id,omitempty"`
	Active      *bool              `json:"active,omitempty"`
	ServiceUser *bool              `json:"service_user,omitempty"`
	Profiles    *[]string          `json:"profiles,omitempty"`
	Attributes  *map[string]string `json:"attributes,omitempty"`
}

// PasswordRequest sets a user's or a console user's password.
type PasswordRequest struct {
	Password string `json:"password"`
}

// PasswordLinkSent answers a set-password link request; the link itself
// is never in the response.
type PasswordLinkSent struct {
	SentTo string `json:"sent_to"`
}

// Consent is an app the user consented to, with the scopes granted.
type Consent struct {
	ClientID  string    `json:"client_id"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// BrowserSession is a user's sign-in session; ID is the sid claim of ID
// tokens, not usable as a cookie.
type BrowserSession struct {
	ID        string    `json:"id"`
	AuthTime  time.Time `json:"auth_time"`
	AMR       []string  `json:"amr"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// --- profiles

// Profile is a named group of users.
type Profile struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ProfileRequest creates or changes a profile; ID is for create only.
type ProfileRequest struct {
	ID          *string `json:"id,omitempty"`
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

// --- certificates

// Certificate is an X.509 certificate of a client (a JWT bearer
// assertion key).
type Certificate struct {
	KID            string    `json:"kid"`
	Subject        string    `json:"subject"`
	Issuer         string    `json:"issuer"`
	Serial         string    `json:"serial"` // hexadecimal
	NotBefore      time.Time `json:"not_before"`
	NotAfter       time.Time `json:"not_after"`
	ThumbprintS256 string    `json:"x5t#S256"`
	KeyType        string    `json:"key_type"`
	// Warning is set when the certificate expires within 30 days.
	Warning   string    `json:"warning,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// CertificateUpload adds a certificate: PEM text, or the DER bytes in
// base64. KID defaults to the x5t#S256 thumbprint.
type CertificateUpload struct {
	Certificate string `json:"certificate"`
	KID         string `json:"kid"`
}

// --- client JWT bearer settings

// JWTBearerSettings are a client's JWT bearer grant settings (RFC 7523)
// and service user; the same document is read (defaults filled in) and
// written (PUT replaces it). MaxAssertionLifetime is seconds.
type JWTBearerSettings struct {
	UserField             string   `json:"user_field"`
	PreAuth               string   `json:"pre_auth"`
	AllowedProfiles       []string `json:"allowed_profiles"`
	AllowedUsers          []string `json:"allowed_users"`
	ExtraAudiences        []string `json:"extra_audiences"`
	MaxAssertionLifetime  int64    `json:"max_assertion_lifetime"`
	AllowHS256            bool     `json:"allow_hs256"`
	RefreshTokens         bool     `json:"refresh_tokens"`
	AllowedTrustedIssuers []string `json:"allowed_trusted_issuers"`
	ServiceUserID         string   `json:"service_user_id"`
	// PreAuthorizationPolicy is what PreAuth, AllowedProfiles and
	// AllowedUsers are: the policy the grant evaluates. Response only (a
	// PUT ignores it).
	PreAuthorizationPolicy *PreAuthorizationPolicy `json:"pre_authorization_policy,omitempty"`
}

// PreAuthorizationPolicy is a client's JWT bearer pre-authorization as
// the "profiles" policy template: its parameters (all_users=true, or the
// comma-separated profiles and users; none when nobody is approved) and
// the rules rendered from them, which the grant evaluates.
type PreAuthorizationPolicy struct {
	Template string            `json:"template"`
	Params   map[string]string `json:"params"`
	Rules    []PolicyRule      `json:"rules"`
}

// --- trusted issuers

// TrustedIssuer is an external issuer whose JWTs the JWT bearer grant
// accepts as assertions.
type TrustedIssuer struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	Issuer               string          `json:"issuer"`
	JWKSURI              string          `json:"jwks_uri,omitempty"`
	JWKS                 json.RawMessage `json:"jwks,omitempty"`
	Audience             string          `json:"audience"`
	AllowedClients       []string        `json:"allowed_clients"`
	MaxAssertionLifetime int64           `json:"max_assertion_lifetime"`
	Enabled              bool            `json:"enabled"`
	ServiceUserID        string          `json:"service_user_id,omitempty"`
	Claim                string          `json:"claim,omitempty"`
	ClaimFormat          string          `json:"claim_format,omitempty"`
	CreatedAt            time.Time       `json:"created_at"`
	UpdatedAt            time.Time       `json:"updated_at"`
}

// TrustedIssuerRequest creates or changes a trusted issuer; ID is for
// create only. JWKS left empty keeps the stored key set and
// json.RawMessage("null") clears it.
type TrustedIssuerRequest struct {
	ID                   *string         `json:"id,omitempty"`
	Name                 *string         `json:"name,omitempty"`
	Issuer               *string         `json:"issuer,omitempty"`
	JWKSURI              *string         `json:"jwks_uri,omitempty"`
	JWKS                 json.RawMessage `json:"jwks,omitempty"`
	Audience             *string         `json:"audience,omitempty"`
	AllowedClients       *[]string       `json:"allowed_clients,omitempty"`
	MaxAssertionLifetime *int64          `json:"max_assertion_lifetime,omitempty"`
	Enabled              *bool           `json:"enabled,omitempty"`
	ServiceUserID        *string         `json:"service_user_id,omitempty"`
	Claim                *string         `json:"claim,omitempty"`
	ClaimFormat          *string         `json:"claim_format,omitempty"`
}

// --- console users and viewing a client secret

// ConsoleUser is an admin user of the web console (server-wide). It never
// carries the password hash.
type ConsoleUser struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
	// Workspaces are those a workspace role applies to (empty for
	// super_admin).
	Workspaces []string  `json:"workspaces"`
	Disabled   bool      `json:"disabled"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ConsoleUserCreate creates a console user; Username, Password and Role
// are required.
type ConsoleUserCreate struct {
	Username    string   `json:"username"`
	Email       string   `json:"email,omitempty"`
	DisplayName string   `json:"display_name,omitempty"`
	Password    string   `json:"password"`
	Role        string   `json:"role"`
	Workspaces  []string `json:"workspaces,omitempty"`
	Disabled    bool     `json:"disabled,omitempty"`
}

// ConsoleUserUpdate changes the fields that are set. The username never
// changes and the password has its own call.
type ConsoleUserUpdate struct {
	Email       *string   `json:"email,omitempty"`
	DisplayName *string   `json:"display_name,omitempty"`
	Role        *string   `json:"role,omitempty"`
	Workspaces  *[]string `json:"workspaces,omitempty"`
	Disabled    *bool     `json:"disabled,omitempty"`
}

// SecretCodeSent answers a request for a one-time code to view a client
// secret: where the code went, how many seconds it stays valid and how
// many wrong codes end it.
type SecretCodeSent struct {
	SentTo    string `json:"sent_to"`
	ExpiresIn int64  `json:"expires_in"`
	Tries     int    `json:"tries"`
}

// RevealSecretRequest spends one try of the caller's code.
type RevealSecretRequest struct {
	Code string `json:"code"`
}

// RevealedSecret is a client secret shown after a matching code.
type RevealedSecret struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// --- lists

// Page is one page of a paginated list. Pass NextPageToken as
// ListOptions.PageToken to get the next one; it is empty on the last page.
type Page[T any] struct {
	Items         []T    `json:"items"`
	NextPageToken string `json:"next_page_token,omitempty"`
}

// List is a complete, unpaginated list.
type List[T any] struct {
	Items []T `json:"items"`
}
