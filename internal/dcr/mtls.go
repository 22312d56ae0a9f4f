package dcr

import (
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// mtlsMetadata is the client metadata of RFC 8705: the certificate
// subject of tls_client_auth (§2.1.2) and certificate-bound access tokens
// (§3.4).
type mtlsMetadata struct {
	TLSClientAuthSubjectDN                string `json:"tls_client_auth_subject_dn,omitempty"`
	TLSClientAuthSANDNS                   string `json:"tls_client_auth_san_dns,omitempty"`
	TLSClientAuthSANURI                   string `json:"tls_client_auth_san_uri,omitempty"`
	TLSClientAuthSANIP                    string `json:"tls_client_auth_san_ip,omitempty"`
	TLSClientAuthSANEmail                 string `json:"tls_client_auth_san_email,omitempty"`
	TLSClientCertificateBoundAccessTokens bool   `json:"tls_client_certificate_bound_access_tokens,omitempty"`
}

func (m mtlsMetadata) settings() service.MTLSSettings {
	return service.MTLSSettings(m)
}

func mtlsMetadataOf(c storage.Client) mtlsMetadata {
	return mtlsMetadata{
		TLSClientAuthSubjectDN: c.TLSClientAuthSubjectDN, TLSClientAuthSANDNS: c.TLSClientAuthSANDNS,
		TLSClientAuthSANURI: c.TLSClientAuthSANURI, TLSClientAuthSANIP: c.TLSClientAuthSANIP,
		TLSClientAuthSANEmail:                 c.TLSClientAuthSANEmail,
		TLSClientCertificateBoundAccessTokens: c.TLSClientCertificateBoundAccessTokens,
	}
}

// mtlsPatch sets every RFC 8705 member, so that a full replacement
// (RFC 7592 §2.2) clears the omitted ones.
func mtlsPatch(s service.MTLSSettings) service.MTLSPatch {
	return service.MTLSPatch{
		TLSClientAuthSubjectDN: &s.TLSClientAuthSubjectDN, TLSClientAuthSANDNS: &s.TLSClientAuthSANDNS,
		TLSClientAuthSANURI: &s.TLSClientAuthSANURI, TLSClientAuthSANIP: &s.TLSClientAuthSANIP,
		TLSClientAuthSANEmail:                 &s.TLSClientAuthSANEmail,
		TLSClientCertificateBoundAccessTokens: &s.TLSClientCertificateBoundAccessTokens,
	}
}
