package discovery

import (
	"slices"

	"github.com/latchkey/latchkey/internal/authorize"
	"github.com/latchkey/latchkey/internal/fapi"
	"github.com/latchkey/latchkey/internal/storage"
)

// addFAPI narrows the document to what a workspace under a FAPI 2.0
// profile accepts (package fapi), so that discovery advertises exactly
// that: PAR required (RFC 9126 §5), response type code and PKCE S256
// only (FAPI 2.0 Security Profile §5.3.2.2 items 1 and 5), the
// private_key_jwt and mTLS methods only (§5.3.2.1 item 6), PS256, ES256
// and EdDSA only (§5.4.1 item 1); under Message Signing, signed request
// objects (RFC 9101 §10.5) and the JARM response modes only (Message
// Signing §5.3.1, §5.4.1).
func addFAPI(md *Metadata, ws storage.Workspace) {
	if !fapi.On(ws) {
		return
	}
	md.RequirePushedAuthorizationRequests = true
	md.ResponseTypesSupported = []string{"code"}
	md.CodeChallengeMethodsSupported = []string{"S256"}
	md.TokenEndpointAuthMethodsSupported = keep(md.TokenEndpointAuthMethodsSupported, fapi.AuthMethods)
	md.RevocationEndpointAuthMethodsSupported = keep(md.RevocationEndpointAuthMethodsSupported, fapi.AuthMethods)
	md.IntrospectionEndpointAuthMethodsSupported = keep(md.IntrospectionEndpointAuthMethodsSupported, fapi.AuthMethods)
	md.TokenEndpointAuthSigningAlgValuesSupported = keepOrNil(md.TokenEndpointAuthSigningAlgValuesSupported, fapi.Algs)
	md.RevocationEndpointAuthSigningAlgValuesSupported = keepOrNil(md.RevocationEndpointAuthSigningAlgValuesSupported, fapi.Algs)
	md.IntrospectionEndpointAuthSigningAlgValuesSupported = keepOrNil(md.IntrospectionEndpointAuthSigningAlgValuesSupported, fapi.Algs)
	md.RequestObjectSigningAlgValuesSupported = keep(md.RequestObjectSigningAlgValuesSupported, fapi.Algs)
	md.AuthorizationSigningAlgValuesSupported = keep(md.AuthorizationSigningAlgValuesSupported, fapi.Algs)
	md.IDTokenSigningAlgValuesSupported = keep(md.IDTokenSigningAlgValuesSupported, fapi.Algs)
	// The token endpoint accepts DPoP proofs of these algorithms only.
	md.DPoPSigningAlgValuesSupported = keepOrNil(md.DPoPSigningAlgValuesSupported, fapi.Algs)
	if fapi.MessageSigning(ws) {
		md.RequireSignedRequestObject = true
		md.ResponseModesSupported = []string{authorize.ModeJWT, authorize.ModeQueryJWT, authorize.ModeFragmentJWT, authorize.ModeFormPostJWT}
	}
}

// keep returns the members of list that allowed contains, in list's
// order, never nil (the member stays an array).
func keep(list, allowed []string) []string {
	out := []string{}
	for _, v := range list {
		if slices.Contains(allowed, v) {
			out = append(out, v)
		}
	}
	return out
}

// keepOrNil is keep for members omitted when empty (RFC 8414 §2).
func keepOrNil(list, allowed []string) []string {
	if out := keep(list, allowed); len(out) > 0 {
		return out
	}
	return nil
}
