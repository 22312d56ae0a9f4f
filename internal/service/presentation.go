package service

import (
	"net"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/storage"
)

// Subject types (OIDC Core §8).
const (
	SubjectPublic   = "public"
	SubjectPairwise = "pairwise"
)

// Presentation holds the client fields shown to people and the
// authorization-flow switches the console edits on the Overview and OAuth
// tabs.
type Presentation struct {
	PolicyURI   string
	TOSURI      string
	ClientURI   string
	LogoURI     string
	Trusted     bool
	RequirePKCE *bool // nil: required (the default)
	SubjectType string
	// SubjectFormat is storage.Client.SubjectFormat; SubjectType is kept
	// consistent with it (subjectformat.go).
	SubjectFormat string
}

// PresentationPatch updates Presentation; nil fields are left unchanged.
type PresentationPatch struct {
	PolicyURI     *string
	TOSURI        *string
	ClientURI     *string
	LogoURI       *string
	Trusted       *bool
	RequirePKCE   *bool
	SubjectType   *string
	SubjectFormat *string
}

func (p PresentationPatch) apply(in Presentation) Presentation {
	setString(&in.PolicyURI, p.PolicyURI)
	setString(&in.TOSURI, p.TOSURI)
	setString(&in.ClientURI, p.ClientURI)
	setString(&in.LogoURI, p.LogoURI)
	in = p.applySubject(in)
	if p.Trusted != nil {
		in.Trusted = *p.Trusted
	}
	if p.RequirePKCE != nil {
		v := *p.RequirePKCE
		in.RequirePKCE = &v
	}
	return in
}

func (p PresentationPatch) fields() []string {
	return setFields("policy_uri", p.PolicyURI != nil, "tos_uri", p.TOSURI != nil, "client_uri", p.ClientURI != nil,
		"logo_uri", p.LogoURI != nil, "trusted", p.Trusted != nil, "require_pkce", p.RequirePKCE != nil,
		"subject_type", p.SubjectType != nil, "subject_format", p.SubjectFormat != nil)
}

func presentationOf(c storage.Client) Presentation {
	return Presentation{
		PolicyURI: c.PolicyURI, TOSURI: c.TOSURI, ClientURI: c.ClientURI, LogoURI: c.LogoURI,
		Trusted: c.Trusted, RequirePKCE: c.RequirePKCE, SubjectType: c.SubjectType, SubjectFormat: c.SubjectFormat,
	}
}

// withPresentation returns c with p's fields. RequirePKCE true is stored
// as nil, the default, so that "required" has one representation.
func withPresentation(c storage.Client, p Presentation) storage.Client {
	c.PolicyURI, c.TOSURI, c.ClientURI, c.LogoURI = p.PolicyURI, p.TOSURI, p.ClientURI, p.LogoURI
	c.Trusted, c.SubjectType, c.SubjectFormat = p.Trusted, p.SubjectType, p.SubjectFormat
	c.RequirePKCE = nil
	if p.RequirePKCE != nil && !*p.RequirePKCE {
		off := false
		c.RequirePKCE = &off
	}
	return c
}

// maxURILength bounds the presentation URLs (SECURITY.md M5).
const maxURILength = 2048

// validatePresentation accepts only https URLs (http on loopback IP
// literals) for the URLs people see, so no javascript: or data: URL can be
// rendered as a link or image (SECURITY.md K10).
func validatePresentation(v *validator, p Presentation) {
	for _, f := range []struct{ name, value string }{
		{"policy_uri", p.PolicyURI}, {"tos_uri", p.TOSURI}, {"client_uri", p.ClientURI}, {"logo_uri", p.LogoURI},
	} {
		if f.value == "" || !v.maxLen(f.name, f.value, maxURILength) {
			continue
		}
		v.check(isDisplayURL(f.value), f.name, "url", "must be an https URL (http only on a loopback address)")
	}
	v.check(p.SubjectType == "" || p.SubjectType == SubjectPublic || p.SubjectType == SubjectPairwise,
		"subject_type", "enum", "must be %q or %q", SubjectPublic, SubjectPairwise)
	validateSubjectFormat(v, p)
}

func isDisplayURL(raw string) bool {
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Host == "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		ip := net.ParseIP(u.Hostname())
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// clientPatchFields names the fields a client patch sets (audit details:
// names only, never values such as keys).
func clientPatchFields(p ClientPatch) []string {
	out := setFields("name", p.Name != nil, "description", p.Description != nil, "contact_email", p.ContactEmail != nil,
		"type", p.Type != nil, "grant_types", p.GrantTypes != nil, "response_types", p.ResponseTypes != nil,
		"redirect_uris", p.RedirectURIs != nil, "scopes", p.Scopes != nil,
		"token_endpoint_auth_method", p.TokenEndpointAuthMethod != nil,
		"token_endpoint_auth_signing_alg", p.TokenEndpointAuthSigningAlg != nil, "jwks", p.JWKS != nil,
		"jwks_uri", p.JWKSURI != nil, "access_token_ttl", p.AccessTokenTTL != nil, "metadata", p.Metadata != nil,
		"enabled", p.Enabled != nil, "extra", p.Extra != nil, "application_type", p.ApplicationType != nil)
	out = append(out, p.AuthFlowPatch.fields()...)
	out = append(out, p.TokenSettingsPatch.fields()...)
	out = append(out, p.SignedRequestPatch.fields()...)
	out = append(out, p.MTLSPatch.fields()...)
	out = append(out, setFields("authorization_details_types", p.AuthorizationDetailsTypes != nil)...)
	return append(out, p.PresentationPatch.fields()...)
}
