package dcr

import (
	"github.com/latchkey/latchkey/internal/clientauth"
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

// checkMTLSOffered refuses the RFC 8705 metadata of a server that cannot
// receive client certificates: RFC 7591 §3.2.2 invalid_client_metadata
// for a token_endpoint_auth_method, or certificate-bound tokens, that
// discovery does not advertise then (RFC 8414 §2; discovery's addMTLS).
// The source of truth is the one discovery uses: Handler.MTLS, nil when
// no client certificate can reach the server.
func (h *Handler) checkMTLSOffered(in service.ClientInput) error {
	if h.MTLS != nil {
		return nil
	}
	var errs []service.FieldError
	if clientauth.IsMTLSMethod(in.TokenEndpointAuthMethod) {
		errs = append(errs, fieldErr("token_endpoint_auth_method", "unsupported",
			"%s is not offered by this server: it does not receive TLS client certificates (see token_endpoint_auth_methods_supported in its discovery document)",
			in.TokenEndpointAuthMethod))
	}
	if in.TLSClientCertificateBoundAccessTokens {
		errs = append(errs, fieldErr("tls_client_certificate_bound_access_tokens", "unsupported",
			"cannot be true: this server does not receive TLS client certificates (RFC 8705 §3.4)"))
	}
	if len(errs) > 0 {
		return &service.ValidationError{Errors: errs}
	}
	return nil
}
