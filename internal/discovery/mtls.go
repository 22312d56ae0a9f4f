package discovery

import (
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
)

// MTLS describes how clients reach the server with mutual TLS
// (RFC 8705): it speaks TLS itself and requests client certificates, or a
// trusted proxy passes them. BaseURL is where the mTLS endpoints are
// served ("" when that is the normal base URL, so no aliases are
// published).
type MTLS struct {
	BaseURL string
}

// MTLSMetadata are the RFC 8705 members of the metadata document.
type MTLSMetadata struct {
	// TLSClientCertificateBoundAccessTokens is RFC 8705 §3.3.
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	// MTLSEndpointAliases is RFC 8705 §5: the endpoints a client using
	// mutual TLS calls instead of the normal ones.
	MTLSEndpointAliases map[string]string `json:"mtls_endpoint_aliases,omitempty"`
}

// addMTLS advertises mutual TLS when the server can receive client
// certificates, and otherwise removes its two methods from the
// advertised authentication methods: what is advertised is what works.
func (h *Handler) addMTLS(md *Metadata, wsID string) {
	if h.MTLS == nil {
		noMTLS := func(m string) bool {
			return m == oauth2.AuthTLSClient || m == oauth2.AuthSelfSignedTLSClient
		}
		md.TokenEndpointAuthMethodsSupported = slices.DeleteFunc(slices.Clone(md.TokenEndpointAuthMethodsSupported), noMTLS)
		md.RevocationEndpointAuthMethodsSupported = md.TokenEndpointAuthMethodsSupported
		md.IntrospectionEndpointAuthMethodsSupported = withoutNone(md.TokenEndpointAuthMethodsSupported)
		return
	}
	md.TLSClientCertificateBoundAccessTokens = true
	if h.MTLS.BaseURL == "" {
		return
	}
	mtlsIssuer := endpoint.Issuer(h.MTLS.BaseURL, wsID)
	aliases := map[string]string{}
	for name, u := range map[string]string{
		"token_endpoint":                        md.TokenEndpoint,
		"revocation_endpoint":                   md.RevocationEndpoint,
		"introspection_endpoint":                md.IntrospectionEndpoint,
		"userinfo_endpoint":                     md.UserInfoEndpoint,
		"device_authorization_endpoint":         md.DeviceAuthorizationEndpoint,
		"pushed_authorization_request_endpoint": md.PushedAuthorizationRequestEndpoint,
		"backchannel_authentication_endpoint":   md.BackchannelAuthenticationEndpoint,
	} {
		if rest, ok := strings.CutPrefix(u, md.Issuer); ok && u != "" {
			aliases[name] = mtlsIssuer + rest
		}
	}
	md.MTLSEndpointAliases = aliases
}
