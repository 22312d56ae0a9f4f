package service

import (
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// TokenSettings are a client's token format and the lifetimes that
// override the workspace's (the access token's is ClientInput.AccessTokenTTL,
// the refresh token's AuthFlowSettings.RefreshTokens).
type TokenSettings struct {
	// AccessTokenFormat is "" or storage.AccessTokenJWT (RFC 9068 JWTs) or
	// storage.AccessTokenOpaque (reference tokens only introspection
	// resolves).
	AccessTokenFormat string
	// IDTokenTTL is 0 (the access token's lifetime) or within the access
	// token bounds.
	IDTokenTTL time.Duration
	// DPoPBoundAccessTokens requires a DPoP proof on every token request
	// of the client (RFC 9449 §5.2).
	DPoPBoundAccessTokens bool
}

// TokenSettingsPatch updates TokenSettings; nil fields are left unchanged.
type TokenSettingsPatch struct {
	AccessTokenFormat *string
	IDTokenTTL        *time.Duration
	// DPoPBoundAccessTokens sets TokenSettings.DPoPBoundAccessTokens.
	DPoPBoundAccessTokens *bool
}

func (p TokenSettingsPatch) apply(in TokenSettings) TokenSettings {
	setString(&in.AccessTokenFormat, p.AccessTokenFormat)
	if p.IDTokenTTL != nil {
		in.IDTokenTTL = *p.IDTokenTTL
	}
	if p.DPoPBoundAccessTokens != nil {
		in.DPoPBoundAccessTokens = *p.DPoPBoundAccessTokens
	}
	return in
}

func (p TokenSettingsPatch) fields() []string {
	return setFields("access_token_format", p.AccessTokenFormat != nil, "id_token_ttl", p.IDTokenTTL != nil,
		"dpop_bound_access_tokens", p.DPoPBoundAccessTokens != nil)
}

func tokenSettingsOf(c storage.Client) TokenSettings {
	return TokenSettings{AccessTokenFormat: c.AccessTokenFormat, IDTokenTTL: c.IDTokenTTL, DPoPBoundAccessTokens: c.DPoPBoundAccessTokens}
}

// withTokenSettings stores the settings; "jwt" is stored as "" so both
// spellings of the default read the same.
func withTokenSettings(c storage.Client, t TokenSettings) storage.Client {
	c.AccessTokenFormat, c.IDTokenTTL = t.AccessTokenFormat, t.IDTokenTTL
	c.DPoPBoundAccessTokens = t.DPoPBoundAccessTokens
	if c.AccessTokenFormat == storage.AccessTokenJWT {
		c.AccessTokenFormat = ""
	}
	return c
}

// validateTokenSettings: the format is one of the two, and the ID token
// lifetime has the bounds of the access token's.
func validateTokenSettings(v *validator, t TokenSettings) {
	f := t.AccessTokenFormat
	v.check(f == "" || f == storage.AccessTokenJWT || f == storage.AccessTokenOpaque, "access_token_format", "enum",
		"must be %q (RFC 9068 JWT access tokens) or %q (reference tokens resolved by introspection)",
		storage.AccessTokenJWT, storage.AccessTokenOpaque)
	v.check(t.IDTokenTTL == 0 || (t.IDTokenTTL >= MinAccessTokenTTL && t.IDTokenTTL <= MaxAccessTokenTTL), "id_token_ttl", "range",
		"must be 0 (the access token lifetime) or between %s and %s", MinAccessTokenTTL, MaxAccessTokenTTL)
}
