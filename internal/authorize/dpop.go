package authorize

import (
	"context"
	"net/http"
	"net/url"
	"regexp"

	"github.com/latchkey/latchkey/internal/dpop"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// jktPattern is an RFC 7638 SHA-256 thumbprint, base64url without
// padding: 43 characters.
var jktPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// checkDPoPJKT reads dpop_jkt (RFC 9449 §10): the thumbprint of the DPoP
// key the authorization code is bound to; the token endpoint redeems the
// code only with a proof by that key (grants.checkCodeBinding). A
// malformed value is invalid_request (SECURITY.md S14).
func checkDPoPJKT(_ context.Context, _ *flow, p url.Values, v *validated) error {
	jkt, ok := single(p, dpopJKTParam)
	if !ok {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "dpop_jkt is repeated")
	}
	if jkt == "" {
		return nil
	}
	if !jktPattern.MatchString(jkt) {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "dpop_jkt must be a base64url SHA-256 JWK thumbprint (43 characters)")
	}
	v.req.DPoPJKT = jkt
	return nil
}

// pushedDPoP checks a DPoP proof sent to the PAR endpoint (RFC 9449
// §10.1): a proof for POST on this workspace's PAR endpoint binds the
// authorization code to its key, as dpop_jkt does; with both, they must
// agree (400 invalid_dpop_proof otherwise, SECURITY.md S14). The proof's
// jti is spent like the token endpoint's; with the workspace's nonces on,
// a nonce is required and every answer carries DPoP-Nonce (§8). It
// returns the proof key's thumbprint ("" without a proof), which binds
// the stored request whether or not a request object carries it
// (bindPushedJKT).
func (h *Handler) pushedDPoP(w http.ResponseWriter, r *http.Request, ws storage.Workspace, issuer string, params url.Values) (string, error) {
	values := r.Header.Values(dpop.HeaderProof)
	if h.DPoP == nil || len(values) == 0 {
		return "", nil
	}
	requireNonce := ws.Settings.DPoPNonce && h.DPoP.Nonces != nil
	if requireNonce {
		w.Header().Set(dpop.HeaderNonce, h.DPoP.Nonces.Issue(ws.ID, h.now()))
	}
	p, err := h.DPoP.Verify(r.Context(), values, dpop.Request{
		WorkspaceID: ws.ID, Method: http.MethodPost, URI: issuer + PAREndpoint, RequireNonce: requireNonce,
	})
	switch {
	case err != nil && !dpop.IsProofError(err):
		return "", unavailable(err)
	case err != nil:
		return "", err
	}
	switch jkt := params[dpopJKTParam]; {
	case len(jkt) == 0:
		params.Set(dpopJKTParam, p.JKT)
	case len(jkt) > 1 || jkt[0] != p.JKT:
		return "", &oauth2.Error{Code: dpop.ErrInvalidProof, Description: "dpop_jkt does not match the key of the DPoP proof"}
	}
	return p.JKT, nil
}

// bindPushedJKT carries the PAR DPoP proof's thumbprint into the request
// that is stored (RFC 9449 §10.1: the proof at the PAR endpoint binds the
// authorization code to its key). A request object replaces the outer
// parameters (RFC 9101 §6.3), so the binding is added to what the
// validation kept; a request object whose own dpop_jkt names another key
// is refused with invalid_dpop_proof, as an outer one is.
func bindPushedJKT(v *validated, jkt string) error {
	if jkt == "" {
		return nil
	}
	switch have := v.params[dpopJKTParam]; {
	case len(have) == 0:
		if v.params == nil {
			v.params = url.Values{}
		}
		v.params.Set(dpopJKTParam, jkt)
		v.req.DPoPJKT = jkt
	case len(have) > 1 || have[0] != jkt:
		return &oauth2.Error{Code: dpop.ErrInvalidProof, Description: "dpop_jkt does not match the key of the DPoP proof"}
	}
	return nil
}

// dpopJKTParam is the authorization request parameter of RFC 9449 §10.
const dpopJKTParam = "dpop_jkt"
