package oidc

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// Standard scopes (OIDC Core §5.4, §11).
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeAddress       = "address"
	ScopePhone         = "phone"
	ScopeOfflineAccess = "offline_access"
)

// StandardScopes are the scopes every workspace supports besides the
// scopes of its services: the list of package oauth2, which client
// registration (package service) shares.
var StandardScopes = oauth2.StandardScopes

// scopeClaims maps each standard scope to the claims it requests (§5.4).
var scopeClaims = map[string][]string{
	ScopeProfile: {"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username", "profile",
		"picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"},
	ScopeEmail:   {"email", "email_verified"},
	ScopeAddress: {"address"},
	ScopePhone:   {"phone_number", "phone_number_verified"},
}

// addressFields are the members of the address claim (§5.1.1).
var addressFields = []string{"formatted", "street_address", "locality", "region", "postal_code", "country"}

// SupportedClaims lists every claim Latchkey can return, for discovery.
func SupportedClaims() []string {
	out := []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid", "at_hash"}
	for _, s := range []string{ScopeProfile, ScopeEmail, ScopeAddress, ScopePhone} {
		out = append(out, scopeClaims[s]...)
	}
	return out
}

// ClaimsRequest is the "claims" request parameter (§5.5): the claims
// requested individually for UserInfo and for the ID token.
type ClaimsRequest struct {
	UserInfo map[string]*ClaimRequest `json:"userinfo,omitempty"`
	IDToken  map[string]*ClaimRequest `json:"id_token,omitempty"`
}

// ClaimRequest is one requested claim; nil means "requested in the
// default manner".
type ClaimRequest struct {
	Essential bool              `json:"essential,omitempty"`
	Value     json.RawMessage   `json:"value,omitempty"`
	Values    []json.RawMessage `json:"values,omitempty"`
}

// maxClaimsParam bounds the claims parameter (SECURITY.md M6).
const maxClaimsParam = 4 << 10

// ErrInvalidClaims reports a claims parameter that is not the §5.5 shape.
var ErrInvalidClaims = errors.New("oidc: the claims parameter is invalid")

// ParseClaims parses and validates a claims parameter; "" is no request.
func ParseClaims(raw string) (ClaimsRequest, error) {
	var cr ClaimsRequest
	if raw == "" {
		return cr, nil
	}
	if len(raw) > maxClaimsParam {
		return cr, ErrInvalidClaims
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	if err := dec.Decode(&cr); err != nil || dec.More() {
		return ClaimsRequest{}, ErrInvalidClaims
	}
	return cr, nil
}

// UnmetEssentialACR reports whether the request asks for acr as an
// Essential Claim, of the ID token or of UserInfo, with a value or values
// none of which is acr. OIDC Core §5.5.1.1: "If this is an Essential
// Claim and the requirement cannot be met, then the Authorization Server
// MUST treat that outcome as a failed authentication attempt"; an acr
// requested voluntarily, or essential without values, is met by any.
func (cr ClaimsRequest) UnmetEssentialACR(acr string) bool {
	for _, claims := range []map[string]*ClaimRequest{cr.IDToken, cr.UserInfo} {
		r := claims["acr"]
		if r == nil || !r.Essential || (len(r.Value) == 0 && len(r.Values) == 0) {
			continue
		}
		if !r.accepts(acr) {
			return true
		}
	}
	return false
}

// accepts reports whether value or one of values is the string v.
func (r *ClaimRequest) accepts(v string) bool {
	for _, raw := range append([]json.RawMessage{r.Value}, r.Values...) {
		var s string
		if len(raw) > 0 && json.Unmarshal(raw, &s) == nil && s == v {
			return true
		}
	}
	return false
}

// Encode returns the request as JSON for storage (nil when empty).
func (cr ClaimsRequest) Encode() json.RawMessage {
	if len(cr.UserInfo) == 0 && len(cr.IDToken) == 0 {
		return nil
	}
	b, _ := json.Marshal(cr)
	return b
}

// DecodeClaims reads a stored claims request; invalid input is no request.
func DecodeClaims(raw json.RawMessage) ClaimsRequest {
	var cr ClaimsRequest
	if len(bytes.TrimSpace(raw)) > 0 {
		_ = json.Unmarshal(raw, &cr)
	}
	return cr
}

// UserInfoClaims returns the claims of user for UserInfo: those of the
// granted standard scopes plus those requested individually. Claims the
// user has no value for are omitted (§5.3.2).
func UserInfoClaims(u storage.User, scopes []string, cr ClaimsRequest) map[string]any {
	names := []string{}
	for _, s := range scopes {
		names = append(names, scopeClaims[s]...)
	}
	for name := range cr.UserInfo {
		names = append(names, name)
	}
	return claimValues(u, names)
}

// IDTokenClaims returns the user claims requested for the ID token
// (§5.5: with the code flow, scope claims go to UserInfo).
func IDTokenClaims(u storage.User, cr ClaimsRequest) map[string]any {
	names := make([]string, 0, len(cr.IDToken))
	for name := range cr.IDToken {
		names = append(names, name)
	}
	return claimValues(u, names)
}

func claimValues(u storage.User, names []string) map[string]any {
	out := map[string]any{}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		if v, ok := claimOf(u, name); ok {
			out[name] = v
		}
	}
	return out
}

// claimOf maps user fields and attributes to a standard claim. Attributes
// use the claim names (given_name, phone_number, ...); the address members
// are the attributes "address.street_address" and so on.
func claimOf(u storage.User, name string) (any, bool) {
	switch name {
	case "name":
		return nonEmpty(firstOf(u.DisplayName, u.Attributes["name"]))
	case "preferred_username":
		return nonEmpty(u.Username)
	case "email":
		return nonEmpty(u.Email)
	case "email_verified":
		return u.Email != "" && u.Attributes["email_verified"] == "true", u.Email != ""
	case "phone_number_verified":
		return u.Attributes["phone_number_verified"] == "true", u.Attributes["phone_number"] != ""
	case "updated_at":
		return u.UpdatedAt.Unix(), !u.UpdatedAt.IsZero()
	case "address":
		return addressOf(u)
	}
	if !isStandardClaim(name) {
		return nil, false
	}
	return nonEmpty(u.Attributes[name])
}

func isStandardClaim(name string) bool {
	for _, list := range scopeClaims {
		if slices.Contains(list, name) {
			return true
		}
	}
	return false
}

func addressOf(u storage.User) (any, bool) {
	addr := map[string]string{}
	for _, f := range addressFields {
		if v := u.Attributes["address."+f]; v != "" {
			addr[f] = v
		}
	}
	return addr, len(addr) > 0
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func nonEmpty(s string) (any, bool) { return s, s != "" }

// ScopesString joins scopes for a token's scope claim.
func ScopesString(scopes []string) string { return strings.Join(scopes, " ") }
