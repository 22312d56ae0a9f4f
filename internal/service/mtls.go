package service

import (
	"net/mail"
	"net/netip"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// MTLSSettings are a client's mutual TLS settings (RFC 8705): the
// certificate subject of tls_client_auth (§2.1.2: exactly one of the five
// for that method, none for any other) and certificate-bound access
// tokens (§3.4).
type MTLSSettings struct {
	TLSClientAuthSubjectDN                string
	TLSClientAuthSANDNS                   string
	TLSClientAuthSANURI                   string
	TLSClientAuthSANIP                    string
	TLSClientAuthSANEmail                 string
	TLSClientCertificateBoundAccessTokens bool
}

// MTLSPatch updates MTLSSettings; nil fields are left unchanged.
type MTLSPatch struct {
	TLSClientAuthSubjectDN                *string
	TLSClientAuthSANDNS                   *string
	TLSClientAuthSANURI                   *string
	TLSClientAuthSANIP                    *string
	TLSClientAuthSANEmail                 *string
	TLSClientCertificateBoundAccessTokens *bool
}

// Apply returns in with the patch's fields set.
func (p MTLSPatch) Apply(in MTLSSettings) MTLSSettings {
	setString(&in.TLSClientAuthSubjectDN, p.TLSClientAuthSubjectDN)
	setString(&in.TLSClientAuthSANDNS, p.TLSClientAuthSANDNS)
	setString(&in.TLSClientAuthSANURI, p.TLSClientAuthSANURI)
	setString(&in.TLSClientAuthSANIP, p.TLSClientAuthSANIP)
	setString(&in.TLSClientAuthSANEmail, p.TLSClientAuthSANEmail)
	if p.TLSClientCertificateBoundAccessTokens != nil {
		in.TLSClientCertificateBoundAccessTokens = *p.TLSClientCertificateBoundAccessTokens
	}
	return in
}

func (p MTLSPatch) fields() []string {
	return setFields("tls_client_auth_subject_dn", p.TLSClientAuthSubjectDN != nil,
		"tls_client_auth_san_dns", p.TLSClientAuthSANDNS != nil, "tls_client_auth_san_uri", p.TLSClientAuthSANURI != nil,
		"tls_client_auth_san_ip", p.TLSClientAuthSANIP != nil, "tls_client_auth_san_email", p.TLSClientAuthSANEmail != nil,
		"tls_client_certificate_bound_access_tokens", p.TLSClientCertificateBoundAccessTokens != nil)
}

func mtlsOf(c storage.Client) MTLSSettings {
	return MTLSSettings{
		TLSClientAuthSubjectDN: c.TLSClientAuthSubjectDN, TLSClientAuthSANDNS: c.TLSClientAuthSANDNS,
		TLSClientAuthSANURI: c.TLSClientAuthSANURI, TLSClientAuthSANIP: c.TLSClientAuthSANIP,
		TLSClientAuthSANEmail:                 c.TLSClientAuthSANEmail,
		TLSClientCertificateBoundAccessTokens: c.TLSClientCertificateBoundAccessTokens,
	}
}

func withMTLS(c storage.Client, s MTLSSettings) storage.Client {
	c.TLSClientAuthSubjectDN, c.TLSClientAuthSANDNS = strings.TrimSpace(s.TLSClientAuthSubjectDN), strings.TrimSpace(s.TLSClientAuthSANDNS)
	c.TLSClientAuthSANURI, c.TLSClientAuthSANIP = strings.TrimSpace(s.TLSClientAuthSANURI), strings.TrimSpace(s.TLSClientAuthSANIP)
	c.TLSClientAuthSANEmail = strings.TrimSpace(s.TLSClientAuthSANEmail)
	c.TLSClientCertificateBoundAccessTokens = s.TLSClientCertificateBoundAccessTokens
	return c
}

// maxSubjectLength bounds each registered certificate subject value.
const maxSubjectLength = 1024

// validateMTLS checks the settings against the client's method:
// tls_client_auth registers exactly one subject value (RFC 8705 §2.1.2),
// other methods none; self_signed_tls_client_auth needs registered keys
// (jwks or jwks_uri, §2.2.2) to match the certificate against.
func validateMTLS(v *validator, in ClientInput) {
	s := in.MTLSSettings
	fields := []struct{ name, value string }{
		{"tls_client_auth_subject_dn", s.TLSClientAuthSubjectDN},
		{"tls_client_auth_san_dns", s.TLSClientAuthSANDNS},
		{"tls_client_auth_san_uri", s.TLSClientAuthSANURI},
		{"tls_client_auth_san_ip", s.TLSClientAuthSANIP},
		{"tls_client_auth_san_email", s.TLSClientAuthSANEmail},
	}
	set := 0
	for _, f := range fields {
		value := strings.TrimSpace(f.value)
		if value == "" {
			continue
		}
		set++
		if !v.maxLen(f.name, value, maxSubjectLength) {
			continue
		}
		if in.TokenEndpointAuthMethod != oauth2.AuthTLSClient {
			v.add(f.name, "consistency", "is only used with token_endpoint_auth_method tls_client_auth (RFC 8705 §2.1.2)")
			continue
		}
		validateSubjectValue(v, f.name, value)
	}
	switch in.TokenEndpointAuthMethod {
	case oauth2.AuthTLSClient:
		v.check(set == 1, "tls_client_auth_subject_dn", "required",
			"tls_client_auth requires exactly one of tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip, tls_client_auth_san_email (RFC 8705 §2.1.2)")
	case oauth2.AuthSelfSignedTLSClient:
		v.check(len(in.JWKS) > 0 || in.JWKSURI != "", "jwks", "required",
			"self_signed_tls_client_auth requires jwks or jwks_uri holding the client's certificate key (RFC 8705 §2.2.2)")
	}
}

func validateSubjectValue(v *validator, field, value string) {
	switch field {
	case "tls_client_auth_subject_dn":
		v.check(strings.Contains(value, "="), field, "format", "must be a distinguished name in RFC 4514 form, e.g. CN=client,O=Example,C=US")
	case "tls_client_auth_san_dns":
		v.check(!strings.ContainsAny(value, " /:@"), field, "format", "must be a DNS name")
	case "tls_client_auth_san_uri":
		u, err := url.Parse(value)
		v.check(err == nil && u.IsAbs(), field, "format", "must be an absolute URI")
	case "tls_client_auth_san_ip":
		_, err := netip.ParseAddr(value)
		v.check(err == nil, field, "format", "must be an IPv4 or IPv6 address")
	case "tls_client_auth_san_email":
		a, err := mail.ParseAddress(value)
		v.check(err == nil && a.Address == value, field, "format", "must be an email address")
	}
}
