package grants

import (
	"github.com/latchkey/latchkey/internal/dpop"
	"github.com/latchkey/latchkey/internal/fapi"
	"github.com/latchkey/latchkey/internal/oauth2"
)

// checkFAPI runs after client authentication and the DPoP binding when
// the workspace runs under a FAPI 2.0 profile (package fapi): the
// client's method is one of the profile's, the tokens are
// sender-constrained (a DPoP proof, or a TLS client certificate the
// tokens are bound to; FAPI 2.0 Security Profile §5.3.2.1 items 4 and 5),
// and a DPoP proof is signed with PS256, ES256 or EdDSA (§5.4.1 item 1).
func checkFAPI(req *request, proof *dpop.Proof) error {
	if err := fapi.CheckTokenRequest(req.ws, req.authMethod, req.dpopJKT != "", req.certThumbprint != ""); err != nil {
		return err
	}
	if proof != nil && fapi.CheckAssertionAlg(req.ws, proof.Alg) != "" {
		return &oauth2.Error{Code: dpop.ErrInvalidProof, Description: "FAPI 2.0 accepts DPoP proofs signed with PS256, ES256 or EdDSA only"}
	}
	return nil
}
