package dcr

import (
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// signedRequestMetadata is the registration metadata of pushed
// authorization requests (RFC 9126 §6), request objects (OIDC
// Registration §2 request_object_signing_alg) and JWT-secured
// authorization responses (JARM §3). The service validates them: an
// encryption algorithm the client has no key for is refused with
// invalid_client_metadata.
type signedRequestMetadata struct {
	RequestObjectSigningAlg            string `json:"request_object_signing_alg,omitempty"`
	RequirePushedAuthorizationRequests bool   `json:"require_pushed_authorization_requests,omitempty"`
	AuthorizationSignedResponseAlg     string `json:"authorization_signed_response_alg,omitempty"`
	AuthorizationEncryptedResponseAlg  string `json:"authorization_encrypted_response_alg,omitempty"`
	AuthorizationEncryptedResponseEnc  string `json:"authorization_encrypted_response_enc,omitempty"`
}

func (m signedRequestMetadata) settings() service.SignedRequestSettings {
	return service.SignedRequestSettings(m)
}

func signedRequestMetadataOf(c storage.Client) signedRequestMetadata {
	return signedRequestMetadata{
		RequestObjectSigningAlg:            c.RequestObjectSigningAlg,
		RequirePushedAuthorizationRequests: c.RequirePushedAuthorizationRequests,
		AuthorizationSignedResponseAlg:     c.AuthorizationSignedResponseAlg,
		AuthorizationEncryptedResponseAlg:  c.AuthorizationEncryptedResponseAlg,
		AuthorizationEncryptedResponseEnc:  c.AuthorizationEncryptedResponseEnc,
	}
}

// signedRequestPatch sets every member, so that a full replacement (RFC
// 7592 §2.2) clears the omitted ones.
func signedRequestPatch(s service.SignedRequestSettings) service.SignedRequestPatch {
	return service.SignedRequestPatch{
		RequestObjectSigningAlg: &s.RequestObjectSigningAlg, RequirePushedAuthorizationRequests: &s.RequirePushedAuthorizationRequests,
		AuthorizationSignedResponseAlg: &s.AuthorizationSignedResponseAlg, AuthorizationEncryptedResponseAlg: &s.AuthorizationEncryptedResponseAlg,
		AuthorizationEncryptedResponseEnc: &s.AuthorizationEncryptedResponseEnc,
	}
}
