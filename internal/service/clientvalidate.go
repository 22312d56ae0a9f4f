package service

import (
	"fmt"
	"net/mail"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/ssrf"
	"github.com/latchkey/latchkey/internal/storage"
)

var (
	// clientIDPattern: RFC 3986 unreserved characters plus ':' (the
	// generated base64url IDs use '-' and '_').
	clientIDPattern    = lazyRegexp(`^[A-Za-z0-9._~:-]{1,255}$`)
	metadataKeyPattern = lazyRegexp(`^[A-Za-z0-9_.:-]{1,64}$`)
)

// Limits of client fields (SECURITY.md M5).
const (
	MaxClientScopes        = 500
	MaxGrantTypes          = 10
	MaxMetadataPairs       = 50
	maxMetadataValueLength = 1024
	maxEmailLength         = 254
	maxJWKSURILength       = 2048
)

// ClientGrantTypes are the grant types a client may register.
var ClientGrantTypes = []string{
	oauth2.GrantClientCredentials, oauth2.GrantAuthorizationCode, oauth2.GrantRefreshToken, oauth2.GrantJWTBearer,
	oauth2.GrantTokenExchange, // RFC 8693; settings through SetClientTokenExchange, all off by default
	// RFC 8628: issues a user's tokens after the user approves on the
	// device page; never in the default registration policy.
	oauth2.GrantDeviceCode,
	// CIBA Core 1.0: issues a user's tokens after the user approves the
	// backchannel request; confidential clients only, never in the
	// default registration policy.
	oauth2.GrantCIBA,
}

// ClientResponseTypes are the response types a client may register.
var ClientResponseTypes = []string{"code"}

func validateClientID(v *validator, id string) {
	v.check(clientIDPattern.MatchString(id), "client_id", "pattern",
		"must be 1-255 letters, digits or '.', '_', '~', ':', '-'")
}

// validateClient checks every field of in (defaults already applied) and
// returns the normalized inline JWKS.
func (s *Service) validateClient(v *validator, ws storage.Workspace, in ClientInput, scopes []storage.ScopeRef) []byte {
	validateName(v, "name", in.Name)
	v.maxLen("description", in.Description, maxDescriptionLength)
	validateEmail(v, "contact_email", in.ContactEmail)
	typeOK := v.check(in.Type == oauth2.ClientConfidential || in.Type == oauth2.ClientPublic,
		"type", "enum", "must be %q or %q", oauth2.ClientConfidential, oauth2.ClientPublic)
	validateGrantTypes(v, in)
	validateResponseTypes(v, in)
	validateRedirectURIs(v, in)
	if typeOK {
		validateApplicationType(v, in)
	}
	validateClientScopes(v, in.Scopes, scopes)
	if typeOK {
		validateAuthMethod(v, ws, in)
	}
	jwks := s.validateKeys(v, in)
	validateTTL(v, in.AccessTokenTTL)
	validateMetadata(v, in.Metadata)
	validatePresentation(v, in.Presentation)
	return jwks
}

func validateEmail(v *validator, field, email string) {
	if email == "" || !v.maxLen(field, email, maxEmailLength) {
		return
	}
	// A bare address only: no display name, no group, no comments.
	addr, err := mail.ParseAddress(email)
	v.check(err == nil && addr.Address == email, field, "email", "must be a plain e-mail address (name@example.com)")
}

func validateGrantTypes(v *validator, in ClientInput) {
	if !v.maxItems("grant_types", len(in.GrantTypes), MaxGrantTypes) {
		return
	}
	validateEnumList(v, "grant_types", in.GrantTypes, ClientGrantTypes)
	// RFC 6749 §4.4 / SECURITY.md D6: only confidential clients can
	// authenticate, so only they may use client_credentials.
	v.check(!(in.Type == oauth2.ClientPublic && contains(in.GrantTypes, oauth2.GrantClientCredentials)),
		"grant_types", "public_client", "client_credentials is not allowed for public clients (RFC 6749 §4.4)")
	// refresh_token only makes sense next to a grant that issues refresh
	// tokens: the code flow, or the JWT bearer grant with its
	// refresh_tokens setting (RFC 7591 §2.1).
	v.check(!contains(in.GrantTypes, oauth2.GrantRefreshToken) ||
		contains(in.GrantTypes, oauth2.GrantAuthorizationCode) || contains(in.GrantTypes, oauth2.GrantJWTBearer) ||
		contains(in.GrantTypes, oauth2.GrantDeviceCode) || contains(in.GrantTypes, oauth2.GrantTokenExchange) ||
		contains(in.GrantTypes, oauth2.GrantCIBA),
		"grant_types", "consistency", "refresh_token requires authorization_code, "+oauth2.GrantJWTBearer+", "+oauth2.GrantDeviceCode+
			", "+oauth2.GrantTokenExchange+" or "+oauth2.GrantCIBA)
}

func validateResponseTypes(v *validator, in ClientInput) {
	if !v.maxItems("response_types", len(in.ResponseTypes), len(ClientResponseTypes)) {
		return
	}
	validateEnumList(v, "response_types", in.ResponseTypes, ClientResponseTypes)
	// RFC 7591 §2.1: "code" goes with authorization_code.
	v.check(len(in.ResponseTypes) == 0 || contains(in.GrantTypes, oauth2.GrantAuthorizationCode),
		"response_types", "consistency", "code requires the authorization_code grant type (RFC 7591 §2.1)")
}

func validateEnumList(v *validator, field string, list, allowed []string) {
	seen := map[string]bool{}
	for i, x := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		v.check(contains(allowed, x), f, "enum", "must be one of %v", allowed)
		v.check(!seen[x], f, "unique", "duplicate value %q", x)
		seen[x] = true
	}
}

func validateRedirectURIs(v *validator, in ClientInput) {
	if !v.maxItems("redirect_uris", len(in.RedirectURIs), MaxRedirectURIs) {
		return
	}
	v.check(len(in.RedirectURIs) > 0 || !contains(in.GrantTypes, oauth2.GrantAuthorizationCode),
		"redirect_uris", "required", "at least one is required for the authorization_code grant")
	seen := map[string]bool{}
	for i, u := range in.RedirectURIs {
		f := fmt.Sprintf("redirect_uris[%d]", i)
		if p := redirectURIProblem(u, in.Type); p != "" {
			v.add(f, "redirect_uri", "%s", p)
		}
		v.check(!seen[u], f, "unique", "duplicate redirect URI")
		seen[u] = true
	}
}

func validateClientScopes(v *validator, want []string, have []storage.ScopeRef) {
	if !v.maxItems("scopes", len(want), MaxClientScopes) {
		return
	}
	exists := knownScopes(have)
	seen := map[string]bool{}
	for i, sc := range want {
		f := fmt.Sprintf("scopes[%d]", i)
		v.check(exists[sc], f, "exists", "scope %q is not an OpenID Connect scope and is not defined by any service of this workspace", truncate(sc, 128))
		v.check(!seen[sc], f, "unique", "duplicate scope %q", truncate(sc, 128))
		seen[sc] = true
	}
}

// knownScopes are the scopes a client may be registered with: the
// OpenID Connect scopes, which every workspace supports, and the scopes of
// the workspace's services (have). It is what discovery lists in
// scopes_supported (RFC 8414 §2, OIDC Discovery §3).
func knownScopes(have []storage.ScopeRef) map[string]bool {
	known := make(map[string]bool, len(have)+len(oauth2.StandardScopes))
	for _, sc := range oauth2.StandardScopes {
		known[sc] = true
	}
	for _, r := range have {
		known[r.Name] = true
	}
	return known
}

// truncate bounds echoed input in messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func validateAuthMethod(v *validator, ws storage.Workspace, in ClientInput) {
	const f = "token_endpoint_auth_method"
	m := in.TokenEndpointAuthMethod
	if !v.check(contains(oauth2.AllAuthMethods, m), f, "enum", "must be one of %v", oauth2.AllAuthMethods) {
		return
	}
	if in.Type == oauth2.ClientPublic {
		v.check(m == oauth2.AuthNone, f, "public_client", "public clients must use none")
	} else {
		v.check(m != oauth2.AuthNone, f, "confidential_client", "confidential clients must authenticate (none is for public clients)")
	}
	if allowed := ws.Settings.AllowedAuthMethods; len(allowed) > 0 {
		v.check(contains(allowed, m), f, "workspace_policy", "%s is not allowed in this workspace (allowed: %v)", m, allowed)
	}
	validateSigningAlg(v, m, in.TokenEndpointAuthSigningAlg)
}

// validateSigningAlg pins an assertion algorithm that fits the method:
// asymmetric for private_key_jwt, HMAC for client_secret_jwt (RFC 8725
// §3.1, SECURITY.md A2/A3), nothing for other methods.
func validateSigningAlg(v *validator, method, alg string) {
	const f = "token_endpoint_auth_signing_alg"
	if alg == "" {
		return
	}
	switch method {
	case oauth2.AuthPrivateKeyJWT:
		v.check(contains(oauth2.AsymmetricVerifyAlgs, alg), f, "enum", "must be one of %v", oauth2.AsymmetricVerifyAlgs)
	case oauth2.AuthClientSecretJWT:
		v.check(contains(oauth2.HMACVerifyAlgs, alg), f, "enum", "must be one of %v", oauth2.HMACVerifyAlgs)
	default:
		v.add(f, "consistency", "is only used with private_key_jwt or client_secret_jwt")
	}
}

// validateKeys checks jwks / jwks_uri (SECURITY.md A15, L1/L2) and
// returns the normalized inline set.
func (s *Service) validateKeys(v *validator, in ClientInput) []byte {
	hasJWKS, hasURI := len(in.JWKS) > 0, in.JWKSURI != ""
	if hasJWKS && hasURI {
		// RFC 7591 §2: "MUST NOT both be present".
		v.add("jwks", "exclusive", "jwks and jwks_uri must not both be set (RFC 7591 §2)")
	}
	if in.TokenEndpointAuthMethod == oauth2.AuthPrivateKeyJWT && !hasJWKS && !hasURI {
		v.add("jwks", "required", "private_key_jwt requires jwks or jwks_uri")
	}
	if hasURI {
		s.validateJWKSURI(v, in.JWKSURI)
	}
	if !hasJWKS {
		return nil
	}
	return normalizeJWKS(v, "jwks", in.JWKS)
}

func (s *Service) validateJWKSURI(v *validator, uri string) {
	const f = "jwks_uri"
	if !v.maxLen(f, uri, maxJWKSURILength) {
		return
	}
	validate := s.ValidateURL
	if validate == nil {
		validate = ssrf.ValidateURL
	}
	if err := validate(uri, s.AllowPrivateURLs); err != nil {
		v.add(f, "url", "must be an https URL of a public host: %v", err)
	}
}

func validateTTL(v *validator, ttl time.Duration) {
	v.check(ttl == 0 || (ttl >= MinAccessTokenTTL && ttl <= MaxAccessTokenTTL), "access_token_ttl", "range",
		"must be 0 (workspace default) or between %s and %s", MinAccessTokenTTL, MaxAccessTokenTTL)
}

func validateMetadata(v *validator, md map[string]string) {
	if !v.maxItems("metadata", len(md), MaxMetadataPairs) {
		return
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error order
	for _, k := range keys {
		val := md[k]
		f := "metadata." + truncate(k, 64)
		v.check(metadataKeyPattern.MatchString(k), f, "key_pattern", "keys must be 1-64 letters, digits or '_', '.', ':', '-'")
		v.maxLen(f, val, maxMetadataValueLength)
	}
}

// Application types beyond OpenID Connect Registration §2's "web" and
// "native" (iat.go): "spa" is a browser application (public, PKCE
// required) and "service" a machine-to-machine client without users.
const (
	ApplicationTypeSPA     = storage.ApplicationTypeSPA
	ApplicationTypeService = storage.ApplicationTypeService
)

// ServiceGrantTypes are the grant types of a "service" application: the
// grants that never issue a user's token (RFC 6749 §4.4).
var ServiceGrantTypes = []string{oauth2.GrantClientCredentials}

// EffectiveApplicationType is the application type of c: the stored one,
// or, for a client stored before application types existed (""), the
// type inferred from its other settings (storage.Client.
// EffectiveApplicationType documents how).
func EffectiveApplicationType(c storage.Client) string {
	return c.EffectiveApplicationType()
}

// applicationTypeDefaults fills Type and GrantTypes from an explicit
// application type before the generic defaults apply: native and spa are
// public; service is confidential with client_credentials; web is public
// only with token_endpoint_auth_method none; user-facing types default to
// the authorization code grant.
func applicationTypeDefaults(in *ClientInput) {
	switch in.ApplicationType {
	case ApplicationTypeNative, ApplicationTypeSPA:
		if in.Type == "" {
			in.Type = oauth2.ClientPublic
		}
	case ApplicationTypeService:
		if in.Type == "" {
			in.Type = oauth2.ClientConfidential
		}
		if len(in.GrantTypes) == 0 {
			in.GrantTypes = []string{oauth2.GrantClientCredentials}
		}
	case ApplicationTypeWeb:
		if in.Type == "" && in.TokenEndpointAuthMethod == oauth2.AuthNone {
			in.Type = oauth2.ClientPublic
		}
	}
	switch in.ApplicationType {
	case ApplicationTypeWeb, ApplicationTypeNative, ApplicationTypeSPA:
		if len(in.GrantTypes) == 0 {
			in.GrantTypes = []string{oauth2.GrantAuthorizationCode}
		}
	}
}

// validateApplicationType checks the rules of the client's stored
// application type and the PKCE rule of every public client. A client
// without a stored type (stored before types existed, or never given one)
// keeps the general rules only: its inferred type (EffectiveApplicationType)
// fits them by construction. Errors name the field to change.
func validateApplicationType(v *validator, in ClientInput) {
	const f = "application_type"
	// Public clients cannot authenticate, so PKCE is what binds the code
	// to them (RFC 9700 §2.1.1, RFC 7636 §1): it cannot be turned off.
	v.check(!(in.Type == oauth2.ClientPublic && in.RequirePKCE != nil && !*in.RequirePKCE),
		"require_pkce", "public_client", "cannot be false for a public client: public clients must use PKCE (RFC 9700 §2.1.1)")
	at := in.ApplicationType
	if at == "" {
		// Legacy clients: the inferred type fits by construction.
		return
	}
	if !v.check(contains(ApplicationTypes, at), f, "enum", "must be one of %s", strings.Join(ApplicationTypes, ", ")) {
		return
	}
	switch at {
	case ApplicationTypeNative, ApplicationTypeSPA:
		// RFC 8252 §8.4-8.5: a native application cannot keep a secret;
		// neither can code running in a browser (RFC 9700 §2.1.1).
		v.check(in.Type == oauth2.ClientPublic, "type", "application_type",
			"%s applications are public clients: use type %q (token_endpoint_auth_method none)", at, oauth2.ClientPublic)
	case ApplicationTypeService:
		v.check(in.Type == oauth2.ClientConfidential, "type", "application_type",
			"service applications are confidential clients: use type %q", oauth2.ClientConfidential)
		v.check(len(in.RedirectURIs) == 0, "redirect_uris", "application_type",
			"must be empty for a service application (no user signs in through it)")
		v.check(len(in.ResponseTypes) == 0, "response_types", "application_type",
			"must be empty for a service application (no user signs in through it)")
		for i, g := range in.GrantTypes {
			v.check(contains(ServiceGrantTypes, g), fmt.Sprintf("grant_types[%d]", i), "application_type",
				"%s issues tokens for users and is not allowed for a service application (allowed: %s)",
				truncate(g, 64), strings.Join(ServiceGrantTypes, ", "))
		}
	}
	if at == ApplicationTypeNative || in.Type != oauth2.ClientPublic {
		// Confidential clients are refused private-use schemes by
		// redirectURIProblem already.
		return
	}
	// RFC 8252 §7.1: private-use URI schemes are for native applications.
	for i, u := range in.RedirectURIs {
		if pu, err := url.Parse(u); err == nil && strings.Contains(pu.Scheme, ".") {
			v.add(fmt.Sprintf("redirect_uris[%d]", i), "application_type",
				"private-use URI schemes are only for native applications (RFC 8252 §7.1): set application_type native")
		}
	}
}
