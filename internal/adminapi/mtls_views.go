package adminapi

import (
	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// mtlsView fills the client's mutual TLS settings (RFC 8705 §2.1.2, §3)
// into v.
func mtlsView(v *adminclient.ClientFlow, c storage.Client) {
	v.TLSClientAuthSubjectDN, v.TLSClientAuthSANDNS = &c.TLSClientAuthSubjectDN, &c.TLSClientAuthSANDNS
	v.TLSClientAuthSANURI, v.TLSClientAuthSANIP = &c.TLSClientAuthSANURI, &c.TLSClientAuthSANIP
	v.TLSClientAuthSANEmail = &c.TLSClientAuthSANEmail
	v.TLSClientCertificateBoundAccessTokens = &c.TLSClientCertificateBoundAccessTokens
}

func (f clientFlow) mtlsPatch() service.MTLSPatch {
	return service.MTLSPatch{
		TLSClientAuthSubjectDN: f.TLSClientAuthSubjectDN, TLSClientAuthSANDNS: f.TLSClientAuthSANDNS,
		TLSClientAuthSANURI: f.TLSClientAuthSANURI, TLSClientAuthSANIP: f.TLSClientAuthSANIP,
		TLSClientAuthSANEmail:                 f.TLSClientAuthSANEmail,
		TLSClientCertificateBoundAccessTokens: f.TLSClientCertificateBoundAccessTokens,
	}
}
