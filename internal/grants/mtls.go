package grants

import (
	"context"
	"crypto/subtle"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// bindCertificate runs after client authentication: a client registered
// with tls_client_certificate_bound_access_tokens gets access tokens bound
// to the TLS client certificate of the request (RFC 8705 §3, whatever
// method authenticated it), and must present one: issuing it an unbound
// token would silently drop the protection it asked for.
func bindCertificate(ctx context.Context, req *request) error {
	if !req.client.TLSClientCertificateBoundAccessTokens {
		return nil
	}
	t := endpoint.PresentedCertificate(ctx).Thumbprint()
	if t == "" {
		return oauth2.NewError(oauth2.ErrInvalidRequest,
			"this client's access tokens are bound to its TLS client certificate (tls_client_certificate_bound_access_tokens, RFC 8705 §3): connect with the certificate")
	}
	req.certThumbprint = t
	return nil
}

// certFamilyBinding is the certificate a new token family's refresh
// tokens are bound to: a public client's, when it asked for
// certificate-bound tokens (RFC 8705 §4: its refresh tokens are bound to
// the certificate like its access tokens); confidential clients' refresh
// tokens are bound by client authentication instead.
func certFamilyBinding(req *request) string {
	if req.client.Type == oauth2.ClientPublic || req.authMethod == oauth2.AuthNone {
		return req.certThumbprint
	}
	return ""
}

// checkCertFamilyBinding refuses a refresh of a certificate-bound family
// on a connection without that certificate (RFC 8705 §4); the refresh
// token stays usable with the right one.
func checkCertFamilyBinding(ctx context.Context, fam storage.TokenFamily) error {
	if fam.CertThumbprint == "" {
		return nil
	}
	if got := endpoint.PresentedCertificate(ctx).Thumbprint(); subtle.ConstantTimeCompare([]byte(got), []byte(fam.CertThumbprint)) != 1 {
		return oauth2.NewError(oauth2.ErrInvalidGrant, "the refresh token is bound to a TLS client certificate (RFC 8705 §4): connect with that certificate")
	}
	return nil
}
