package adminapi

import (
	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// signedRequestsView fills the client's PAR, request object and JARM
// settings (RFC 9126 §6, RFC 9101, JARM §3) into v.
func signedRequestsView(v *adminclient.ClientFlow, c storage.Client) {
	v.RequestObjectSigningAlg = &c.RequestObjectSigningAlg
	v.RequirePushedAuthorizationRequests = &c.RequirePushedAuthorizationRequests
	v.AuthorizationSignedResponseAlg = &c.AuthorizationSignedResponseAlg
	v.AuthorizationEncryptedResponseAlg = &c.AuthorizationEncryptedResponseAlg
	v.AuthorizationEncryptedResponseEnc = &c.AuthorizationEncryptedResponseEnc
}

func (f clientFlow) signedRequestPatch() service.SignedRequestPatch {
	return service.SignedRequestPatch{
		RequestObjectSigningAlg:            f.RequestObjectSigningAlg,
		RequirePushedAuthorizationRequests: f.RequirePushedAuthorizationRequests,
		AuthorizationSignedResponseAlg:     f.AuthorizationSignedResponseAlg,
		AuthorizationEncryptedResponseAlg:  f.AuthorizationEncryptedResponseAlg,
		AuthorizationEncryptedResponseEnc:  f.AuthorizationEncryptedResponseEnc,
	}
}
