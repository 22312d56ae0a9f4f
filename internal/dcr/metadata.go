package dcr

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// metadata is the RFC 7591 §2 client metadata Latchkey understands.
// Unknown members are ignored (RFC 7591 §2: "MUST ignore").
type metadata struct {
	ClientID                    string          `json:"client_id,omitempty"`
	ClientSecret                string          `json:"client_secret,omitempty"`
	RedirectURIs                []string        `json:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod     string          `json:"token_endpoint_auth_method,omitempty"`
	TokenEndpointAuthSigningAlg string          `json:"token_endpoint_auth_signing_alg,omitempty"`
	GrantTypes                  []string        `json:"grant_types,omitempty"`
	ResponseTypes               []string        `json:"response_types"`
	ClientName                  string          `json:"client_name,omitempty"`
	ClientURI                   string          `json:"client_uri,omitempty"`
	LogoURI                     string          `json:"logo_uri,omitempty"`
	TOSURI                      string          `json:"tos_uri,omitempty"`
	PolicyURI                   string          `json:"policy_uri,omitempty"`
	Scope                       string          `json:"scope,omitempty"`
	Contacts                    []string        `json:"contacts,omitempty"`
	JWKS                        json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                     string          `json:"jwks_uri,omitempty"`
	SoftwareID                  string          `json:"software_id,omitempty"`
	SoftwareVersion             string          `json:"software_version,omitempty"`
	// ApplicationType is OpenID Connect Dynamic Client Registration §2's
	// "web" (the default) or "native", or Latchkey's "spa" or "service";
	// initial access token policies may restrict it.
	ApplicationType string `json:"application_type,omitempty"`
	// AccessTokenFormat is Latchkey's "jwt" (RFC 9068, the default) or
	// "opaque" (reference tokens that only introspection resolves).
	AccessTokenFormat string `json:"access_token_format,omitempty"`
	// DPoPBoundAccessTokens (RFC 9449 §5.2): the client always sends DPoP
	// proofs and its token requests without one are refused.
	DPoPBoundAccessTokens bool `json:"dpop_bound_access_tokens,omitempty"`
	// PAR, request object and JARM metadata (signedrequests.go).
	signedRequestMetadata
	// Back- and front-channel logout metadata (logoutchannels.go).
	logoutChannelMetadata
	cibaMetadata
	// Mutual TLS metadata (RFC 8705, mtls.go).
	mtlsMetadata
	// Rich authorization request types (RFC 9396 §10, authzdetails.go).
	detailTypesMetadata
	// OpenID Connect metadata the client keeps, and the metadata asking
	// for what Latchkey does not do, which is refused (oidc.go).
	oidcMetadata
	unsupportedMetadata
}

// Keys of client.Extra holding RFC 7591 metadata without a core field.
var extraURIKeys = []string{"client_uri", "logo_uri", "tos_uri", "policy_uri"}

const (
	maxContacts     = 10
	maxExtraLength  = 2048
	defaultName     = "Dynamically registered client"
	maxScopeParam   = 16 << 10
	jwksNullLiteral = "null"
)

// clientInput maps registration metadata onto a service input, applying
// the RFC 7591 §2 defaults: token_endpoint_auth_method client_secret_basic,
// grant_types [authorization_code], response_types [code] (only with the
// authorization_code grant). Problems with metadata Latchkey keeps only as
// extra data are reported here; the service validates the rest.
func (m metadata) clientInput() (service.ClientInput, error) {
	var errs []service.FieldError
	in := service.ClientInput{
		Name: m.ClientName, RedirectURIs: m.RedirectURIs, TokenEndpointAuthMethod: m.TokenEndpointAuthMethod,
		TokenEndpointAuthSigningAlg: m.TokenEndpointAuthSigningAlg, GrantTypes: m.GrantTypes,
		ResponseTypes: m.ResponseTypes, JWKSURI: m.JWKSURI, Dynamic: true,
	}
	if len(m.JWKS) > 0 && string(m.JWKS) != jwksNullLiteral {
		in.JWKS = m.JWKS
	}
	if in.Name == "" {
		in.Name = defaultName
	}
	// OpenID Connect Registration §2: application_type defaults to web.
	in.ApplicationType = m.ApplicationType
	if in.ApplicationType == "" {
		in.ApplicationType = service.ApplicationTypeWeb
	}
	if !slices.Contains(service.ApplicationTypes, in.ApplicationType) {
		errs = append(errs, fieldErr("application_type", "enum", "must be one of %s", strings.Join(service.ApplicationTypes, ", ")))
	}
	if in.TokenEndpointAuthMethod == "" {
		in.TokenEndpointAuthMethod = oauth2.AuthClientSecretBasic
		if in.ApplicationType == service.ApplicationTypeNative || in.ApplicationType == service.ApplicationTypeSPA {
			// Native and browser applications are public clients (RFC
			// 8252 §8.4): they register without a secret unless they ask.
			in.TokenEndpointAuthMethod = oauth2.AuthNone
		}
	}
	switch m.AccessTokenFormat {
	case "", storage.AccessTokenJWT, storage.AccessTokenOpaque:
		in.AccessTokenFormat = m.AccessTokenFormat
	default:
		errs = append(errs, fieldErr("access_token_format", "enum", "must be %s (RFC 9068 JWT) or %s (reference token resolved by introspection)",
			storage.AccessTokenJWT, storage.AccessTokenOpaque))
	}
	in.DPoPBoundAccessTokens = m.DPoPBoundAccessTokens
	in.SignedRequestSettings = m.signedRequestMetadata.settings()
	in.LogoutChannels = m.logoutChannelMetadata.settings()
	in.CIBASettings = m.cibaMetadata.settings()
	in.MTLSSettings = m.mtlsMetadata.settings()
	in.AuthorizationDetailsTypes = m.AuthorizationDetailsTypes
	m.oidcMetadata.apply(&in)
	errs = append(errs, m.unsupportedMetadata.problems()...)
	in.Type = oauth2.ClientConfidential
	if in.TokenEndpointAuthMethod == oauth2.AuthNone {
		in.Type = oauth2.ClientPublic
	}
	if len(in.GrantTypes) == 0 {
		in.GrantTypes = []string{oauth2.GrantAuthorizationCode}
	}
	if len(m.Scope) > maxScopeParam {
		errs = append(errs, fieldErr("scope", "max_length", "must be at most %d characters", maxScopeParam))
	} else {
		in.Scopes = strings.Fields(m.Scope)
	}
	extra, extraErrs := m.extra()
	errs = append(errs, extraErrs...)
	in.Extra = extra
	if len(m.Contacts) > 0 {
		in.ContactEmail = m.Contacts[0]
	}
	if len(errs) > 0 {
		return in, &service.ValidationError{Errors: errs}
	}
	return in, nil
}

func fieldErr(field, rule, format string, args ...any) service.FieldError {
	return service.FieldError{Field: field, Rule: rule, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// extra validates and collects the metadata kept only for display:
// URIs must be https (they may be shown to users; SECURITY.md K10) and
// contacts plain e-mail addresses; and require_auth_time, which needs no
// setting (oidc.go).
func (m metadata) extra() (map[string]any, []service.FieldError) {
	var errs []service.FieldError
	extra := map[string]any{}
	for i, v := range []string{m.ClientURI, m.LogoURI, m.TOSURI, m.PolicyURI} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(v) > maxExtraLength {
			errs = append(errs, fieldErr(extraURIKeys[i], "https_url", "must be an https URL"))
			continue
		}
		extra[extraURIKeys[i]] = v
	}
	if len(m.Contacts) > maxContacts {
		errs = append(errs, fieldErr("contacts", "max_items", "must have at most %d items", maxContacts))
	} else if len(m.Contacts) > 0 {
		for i, c := range m.Contacts {
			if a, err := mail.ParseAddress(c); err != nil || a.Address != c {
				errs = append(errs, fieldErr(fmt.Sprintf("contacts[%d]", i), "email", "must be a plain e-mail address"))
			}
		}
		extra["contacts"] = m.Contacts
	}
	if m.RequireAuthTime {
		extra[requireAuthTimeKey] = true
	}
	for k, v := range map[string]string{"software_id": m.SoftwareID, "software_version": m.SoftwareVersion} {
		if len(v) > 255 {
			errs = append(errs, fieldErr(k, "max_length", "must be at most 255 characters"))
		} else if v != "" {
			extra[k] = v
		}
	}
	if len(extra) == 0 {
		extra = nil
	}
	return extra, errs
}

// response is the RFC 7591 §3.2.1 client information response.
type response struct {
	metadata
	ClientIDIssuedAt        int64  `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64 `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken string `json:"registration_access_token,omitempty"`
	RegistrationClientURI   string `json:"registration_client_uri"`
}

// clientMetadata is the registered metadata of c as RFC 7591 reports it.
func clientMetadata(c storage.Client) metadata {
	m := metadata{
		ClientID: c.ID, RedirectURIs: c.RedirectURIs, TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		TokenEndpointAuthSigningAlg: c.TokenEndpointAuthSigningAlg, GrantTypes: c.GrantTypes,
		ResponseTypes: c.ResponseTypes, ClientName: c.Name, Scope: strings.Join(c.Scopes, " "),
		JWKS: json.RawMessage(c.JWKS), JWKSURI: c.JWKSURI,
	}
	if m.ResponseTypes == nil {
		// Report "none" explicitly: an absent member means ["code"]
		// (RFC 7591 §2).
		m.ResponseTypes = []string{}
	}
	m.ClientURI, _ = c.Extra["client_uri"].(string)
	m.LogoURI, _ = c.Extra["logo_uri"].(string)
	m.TOSURI, _ = c.Extra["tos_uri"].(string)
	m.PolicyURI, _ = c.Extra["policy_uri"].(string)
	m.SoftwareID, _ = c.Extra["software_id"].(string)
	m.SoftwareVersion, _ = c.Extra["software_version"].(string)
	m.ApplicationType = service.EffectiveApplicationType(c)
	m.AccessTokenFormat = c.AccessTokenFormat
	if m.AccessTokenFormat == "" {
		m.AccessTokenFormat = storage.AccessTokenJWT
	}
	m.DPoPBoundAccessTokens = c.DPoPBoundAccessTokens
	m.signedRequestMetadata = signedRequestMetadataOf(c)
	m.logoutChannelMetadata = logoutChannelMetadataOf(c)
	m.cibaMetadata = cibaMetadataOf(c)
	m.mtlsMetadata = mtlsMetadataOf(c)
	m.detailTypesMetadata = detailTypesMetadataOf(c)
	m.oidcMetadata = oidcMetadataOf(c)
	m.Contacts = stringList(c.Extra["contacts"])
	if m.Contacts == nil && c.ContactEmail != "" {
		m.Contacts = []string{c.ContactEmail}
	}
	return m
}

// stringList reads a []string kept in Extra, which comes back from the
// JSON column as []any.
func stringList(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
