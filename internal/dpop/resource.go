package dpop

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// UsesScheme reports whether r presents its access token with the DPoP
// authorization scheme (RFC 9449 §7.1; scheme names are case-insensitive,
// RFC 9110 §11.1).
func UsesScheme(r *http.Request) bool {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, Scheme)
}

// Resource is what a protected resource checks (RFC 9449 §7): the
// presented token, where and how it was presented, and the binding the
// token carries.
type Resource struct {
	WorkspaceID string
	// URI is the resource's own URL, built from the configured issuer.
	URI          string
	AccessToken  string
	BoundJKT     string // cnf.jkt of the token, "" for an unbound token
	RequireNonce bool
}

// CheckResource enforces the binding at a protected resource:
//   - a DPoP-bound token must come with the DPoP scheme (§7.2: a resource
//     that accepts both schemes MUST reject a bound token sent as Bearer);
//   - the DPoP scheme needs a DPoP-bound token and a valid proof with ath
//     (§7.1, §4.3 check 12) signed by the bound key (§4.3, cnf.jkt).
//
// The errors are for WriteChallenge: invalid_token for a scheme or key
// mismatch, invalid_dpop_proof or use_dpop_nonce for the proof.
func (v *Verifier) CheckResource(ctx context.Context, r *http.Request, res Resource) error {
	dpopScheme := UsesScheme(r)
	switch {
	case res.BoundJKT != "" && !dpopScheme:
		return invalidToken("the access token is DPoP-bound: present it with the DPoP authorization scheme and a DPoP proof")
	case !dpopScheme:
		return nil
	case res.BoundJKT == "":
		return invalidToken("the access token is not DPoP-bound: present it with the Bearer scheme")
	}
	p, err := v.Verify(ctx, r.Header.Values(HeaderProof), Request{
		WorkspaceID: res.WorkspaceID, Method: r.Method, URI: res.URI, AccessToken: res.AccessToken, RequireNonce: res.RequireNonce,
	})
	if err != nil {
		return err
	}
	if p.JKT != res.BoundJKT {
		return invalidToken("the DPoP proof is not signed by the key the access token is bound to")
	}
	return nil
}

// errBinding marks the invalid_token errors of CheckResource.
var errBinding = errors.New("dpop: token binding not honoured")

func invalidToken(description string) error {
	return oauth2.Wrap(oauth2.ErrInvalidToken, description, errBinding)
}

// IsBindingError reports an invalid_token of CheckResource: a scheme or
// key that does not match the token's binding, answered with the DPoP
// challenge (§7.1).
func IsBindingError(err error) bool { return errors.Is(err, errBinding) }
