package storage

// Token type identifiers (RFC 8693 §3) a client may be allowed to present
// as subject_token.
const (
	TokenTypeAccessToken  = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeRefreshToken = "urn:ietf:params:oauth:token-type:refresh_token"
	TokenTypeIDToken      = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeJWT          = "urn:ietf:params:oauth:token-type:jwt"
)

// SubjectTokenTypes are the subject_token_type values the token exchange
// grant understands, in the order the console and CLI list them.
var SubjectTokenTypes = []string{TokenTypeAccessToken, TokenTypeRefreshToken, TokenTypeIDToken, TokenTypeJWT}

// TokenExchangeSettings are a client's token exchange settings (RFC 8693).
// Every field is off or empty by default: a client with the grant type but
// no settings cannot exchange anything until an admin allows it.
type TokenExchangeSettings struct {
	// SubjectTokenTypes are the subject_token_type values the client may
	// present (RFC 8693 §3 identifiers); empty allows none.
	SubjectTokenTypes []string `json:"subject_token_types,omitempty"`
	// AllowedIssuers are IDs of the workspace's trusted issuers whose JWTs
	// the client may present (subject_token_type jwt, or as actor_token).
	AllowedIssuers []string `json:"allowed_issuers,omitempty"`
	// AllowedAudiences are the logical audience names (RFC 8693 §2.1
	// audience) the client may ask for besides the workspace's services
	// whose scopes are granted.
	AllowedAudiences []string `json:"allowed_audiences,omitempty"`
	// MayImpersonate lets the client exchange without an actor_token: the
	// new token speaks for the subject alone (RFC 8693 §1.1).
	MayImpersonate bool `json:"may_impersonate,omitempty"`
	// MayDelegate lets the client exchange with an actor_token: the new
	// token carries the actor in "act" (RFC 8693 §1.1, §4.1).
	MayDelegate bool `json:"may_delegate,omitempty"`
	// RefreshTokens lets the client ask for a refresh token
	// (requested_token_type refresh_token, RFC 8693 §2.1): of a new family
	// that ends when the subject token's family ends or is revoked. It
	// needs the refresh_token grant type, the only way to redeem one.
	RefreshTokens bool `json:"refresh_tokens,omitempty"`
}
