package oauth2

// Grant types (RFC 6749 §4, RFC 7523 §2.1).
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
	// GrantDeviceCode is the device authorization grant (RFC 8628 §3.4).
	GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"
	// GrantCIBA is the backchannel authentication grant (OpenID Connect
	// CIBA Core 1.0 §10.1).
	GrantCIBA = "urn:openid:params:grant-type:ciba"
)

// ClientAssertionTypeJWTBearer is the only client_assertion_type we accept
// (RFC 7523 §2.2).
const ClientAssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Token endpoint authentication methods (RFC 7591 §2, OIDC Core §9).
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthClientSecretJWT   = "client_secret_jwt"
	AuthPrivateKeyJWT     = "private_key_jwt"
	AuthNone              = "none"
	// Mutual TLS client authentication (RFC 8705 §2.1, §2.2).
	AuthTLSClient           = "tls_client_auth"
	AuthSelfSignedTLSClient = "self_signed_tls_client_auth"
)

// AllAuthMethods lists every token endpoint authentication method Latchkey
// implements, in the order discovery advertises them.
var AllAuthMethods = []string{
	AuthClientSecretBasic, AuthClientSecretPost, AuthClientSecretJWT, AuthPrivateKeyJWT, AuthNone,
	AuthTLSClient, AuthSelfSignedTLSClient,
}

// StandardScopes are the OpenID Connect scopes (OIDC Core §5.4, §11) that
// every workspace supports besides the scopes of its services: discovery
// lists them in scopes_supported and client registration accepts them.
var StandardScopes = []string{"openid", "profile", "email", "address", "phone", "offline_access"}

// Client types (RFC 6749 §2.1).
const (
	ClientConfidential = "confidential"
	ClientPublic       = "public"
)

// Token type hints (RFC 7009 §2.1, RFC 7662 §2.1).
const (
	TokenTypeHintAccessToken  = "access_token"
	TokenTypeHintRefreshToken = "refresh_token"
)

// AccessTokenJWTType is the JOSE "typ" of JWT access tokens (RFC 9068 §2.1).
const AccessTokenJWTType = "at+jwt"

// Signing algorithms Latchkey can sign with (workspace keys).
const (
	AlgRS256 = "RS256"
	AlgPS256 = "PS256"
	AlgES256 = "ES256"
	AlgEdDSA = "EdDSA"
)

// SigningAlgs are the algorithms a workspace may choose for its keys.
var SigningAlgs = []string{AlgRS256, AlgES256, AlgPS256, AlgEdDSA}

// AsymmetricVerifyAlgs are the public-key algorithms accepted on assertions
// signed by clients (RFC 8725 §3.1: an explicit allowlist; never "none").
var AsymmetricVerifyAlgs = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
}

// HMACVerifyAlgs are the algorithms accepted for client_secret_jwt, keyed by
// the client secret only (never by a public key: RFC 8725 §3.1, SECURITY.md A3).
var HMACVerifyAlgs = []string{"HS256", "HS384", "HS512"}
