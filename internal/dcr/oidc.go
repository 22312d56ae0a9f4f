package dcr

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// oidcMetadata is the OpenID Connect client metadata a Latchkey client
// keeps: OpenID Connect Dynamic Client Registration 1.0 §2 subject_type,
// sector_identifier_uri, id_token_signed_response_alg and
// require_auth_time, and RP-Initiated Logout 1.0 §3.1
// post_logout_redirect_uris. The service validates them exactly as it
// does for the admin API (subject type enum, pairwise sector rules with
// the SSRF-guarded fetch of the sector identifier document, redirect URI
// hygiene for the logout URIs, the workspace's one ID token algorithm).
type oidcMetadata struct {
	SubjectType              string   `json:"subject_type,omitempty"`
	SectorIdentifierURI      string   `json:"sector_identifier_uri,omitempty"`
	PostLogoutRedirectURIs   []string `json:"post_logout_redirect_uris,omitempty"`
	IDTokenSignedResponseAlg string   `json:"id_token_signed_response_alg,omitempty"`
	// RequireAuthTime needs no setting: every ID token Latchkey issues
	// comes from a sign-in and carries auth_time (OIDC Core §2), so the
	// request is honoured as it is. It is kept in Extra so that the
	// client reads back what it registered (RFC 7591 §3.2.1).
	RequireAuthTime bool `json:"require_auth_time,omitempty"`
}

// requireAuthTimeKey is the Extra key of require_auth_time.
const requireAuthTimeKey = "require_auth_time"

// apply copies the members into a client input; the service validates
// them with the admin API's rules.
func (m oidcMetadata) apply(in *service.ClientInput) {
	in.SubjectType = m.SubjectType
	in.SectorIdentifierURI = m.SectorIdentifierURI
	in.PostLogoutRedirectURIs = m.PostLogoutRedirectURIs
	in.IDTokenSignedResponseAlg = m.IDTokenSignedResponseAlg
}

// oidcMetadataOf is the registered OpenID Connect metadata of c.
// subject_type is always reported, as the admin API reports it: pairwise
// exactly when the client's subject format is pairwise (its username and
// e-mail formats are public identifiers, OIDC Core §8).
func oidcMetadataOf(c storage.Client) oidcMetadata {
	m := oidcMetadata{
		SubjectType: service.SubjectPublic, SectorIdentifierURI: c.SectorIdentifierURI,
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, IDTokenSignedResponseAlg: c.IDTokenSignedResponseAlg,
	}
	if c.EffectiveSubjectFormat() == storage.SubjectFormatPairwise {
		m.SubjectType = service.SubjectPairwise
	}
	m.RequireAuthTime, _ = c.Extra[requireAuthTimeKey].(bool)
	return m
}

// unsupportedMetadata is the OpenID Connect Dynamic Client Registration
// 1.0 §2 metadata that asks for something Latchkey does not do. RFC 7591
// §2 lets a server ignore metadata it does not understand, but accepting
// one of these and then not honouring it would leave the client believing
// what is not so (plain ID tokens where it expects encrypted ones, no
// re-authentication where it expects default_max_age), so any value is
// refused with invalid_client_metadata. The metadata Latchkey ignores is
// only what ignoring cannot hurt: default_acr_values (acr is a voluntary
// claim, OIDC Core §5.5.1.1), initiate_login_uri (never used),
// request_uris (request_uri is accepted only from the PAR endpoint, so a
// registered one fails openly) and the request_object_encryption_*
// declarations (a request object is decrypted or refused on its own).
type unsupportedMetadata struct {
	// OIDC Registration §2: "If this is specified, the response will be
	// JWT serialized": that holds for "none" too, and UserInfo answers
	// with JSON only (discovery lists no userinfo_signing_alg_values_supported).
	UserinfoSignedResponseAlg    string `json:"userinfo_signed_response_alg,omitempty"`
	UserinfoEncryptedResponseAlg string `json:"userinfo_encrypted_response_alg,omitempty"`
	UserinfoEncryptedResponseEnc string `json:"userinfo_encrypted_response_enc,omitempty"`
	IDTokenEncryptedResponseAlg  string `json:"id_token_encrypted_response_alg,omitempty"`
	IDTokenEncryptedResponseEnc  string `json:"id_token_encrypted_response_enc,omitempty"`
	// DefaultMaxAge is kept raw: every value is refused, whatever its type.
	DefaultMaxAge json.RawMessage `json:"default_max_age,omitempty"`
}

// problems reports every member that is set.
func (m unsupportedMetadata) problems() []service.FieldError {
	var errs []service.FieldError
	refuse := func(field string, set bool, why string) {
		if set {
			errs = append(errs, fieldErr(field, "unsupported", "is not supported: %s", why))
		}
	}
	const plainUserInfo = "UserInfo answers with a plain JSON object only (OpenID Connect Registration §2: omit the member)"
	refuse("userinfo_signed_response_alg", m.UserinfoSignedResponseAlg != "", plainUserInfo)
	refuse("userinfo_encrypted_response_alg", m.UserinfoEncryptedResponseAlg != "", plainUserInfo)
	refuse("userinfo_encrypted_response_enc", m.UserinfoEncryptedResponseEnc != "", plainUserInfo)
	const signedIDTokens = "ID tokens are signed, never encrypted (omit the member)"
	refuse("id_token_encrypted_response_alg", m.IDTokenEncryptedResponseAlg != "", signedIDTokens)
	refuse("id_token_encrypted_response_enc", m.IDTokenEncryptedResponseEnc != "", signedIDTokens)
	// A JSON null is an absent member (RFC 7591 §2 values are never null).
	refuse("default_max_age", len(m.DefaultMaxAge) > 0 && string(m.DefaultMaxAge) != "null",
		"send max_age with each authorization request instead (OpenID Connect Core §3.1.2.1)")
	return errs
}

// checkPostLogoutPolicy applies the registration policy's redirect URI
// patterns to post_logout_redirect_uris as well: logout redirects users
// like authorization does, so a registration access token that may not
// send users to a host through redirect_uris may not through logout
// either (docs/security.md R2).
func checkPostLogoutPolicy(p storage.RegistrationPolicy, uris []string) error {
	if len(p.RedirectURIPatterns) == 0 {
		return nil
	}
	var errs []service.FieldError
	for i, uri := range uris {
		ok := slices.ContainsFunc(p.RedirectURIPatterns, func(pat string) bool { return service.MatchRedirectURIPattern(pat, uri) })
		if !ok {
			errs = append(errs, fieldErr(fmt.Sprintf("post_logout_redirect_uris[%d]", i), "policy",
				"is not allowed by the initial access token (allowed: %s)", strings.Join(p.RedirectURIPatterns, ", ")))
		}
	}
	if len(errs) > 0 {
		return &service.ValidationError{Errors: errs}
	}
	return nil
}
