package admincmd

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// signedRequestFlags are a client's PAR, request object and JARM settings
// (RFC 9126 §6, RFC 9101, JARM §3).
type signedRequestFlags struct {
	requestObjectAlg, responseAlg, encAlg, enc string
	requirePAR                                 bool
}

func (sf *signedRequestFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&sf.requestObjectAlg, "request-object-signing-alg", "",
		"accept authorization requests only as request objects signed with this algorithm (RFC 9101; \"\" = not required)")
	f.BoolVar(&sf.requirePAR, "require-pushed-authorization-requests", false,
		"accept authorization requests only through the PAR endpoint (RFC 9126)")
	f.StringVar(&sf.responseAlg, "authorization-signed-response-alg", "", "JARM response signing algorithm (\"\" = the workspace's)")
	f.StringVar(&sf.encAlg, "authorization-encrypted-response-alg", "",
		"encrypt JARM responses to the client's key with this algorithm (RSA-OAEP-256, ECDH-ES, ...)")
	f.StringVar(&sf.enc, "authorization-encrypted-response-enc", "", "content encryption of JARM responses (default A128CBC-HS256)")
}

func (sf *signedRequestFlags) apply(cmd *cobra.Command, body *adminclient.OAuthClientRequest) {
	body.RequestObjectSigningAlg = ifChanged(cmd, "request-object-signing-alg", sf.requestObjectAlg)
	body.RequirePushedAuthorizationRequests = ifChanged(cmd, "require-pushed-authorization-requests", sf.requirePAR)
	body.AuthorizationSignedResponseAlg = ifChanged(cmd, "authorization-signed-response-alg", sf.responseAlg)
	body.AuthorizationEncryptedResponseAlg = ifChanged(cmd, "authorization-encrypted-response-alg", sf.encAlg)
	body.AuthorizationEncryptedResponseEnc = ifChanged(cmd, "authorization-encrypted-response-enc", sf.enc)
}

// signedRequestDetail prints the settings that are set.
func signedRequestDetail(w io.Writer, c adminclient.OAuthClient) {
	kvSet(w,
		setting{"Request object alg", c.RequestObjectSigningAlg},
		setting{"JARM signing alg", c.AuthorizationSignedResponseAlg},
		setting{"JARM encryption alg", c.AuthorizationEncryptedResponseAlg},
		setting{"JARM encryption enc", c.AuthorizationEncryptedResponseEnc})
	kvYes(w, "Requires PAR", c.RequirePushedAuthorizationRequests)
}
