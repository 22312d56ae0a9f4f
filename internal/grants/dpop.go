package grants

import (
	"context"
	"fmt"
	"maps"
	"net/http"

	"github.com/latchkey/latchkey/internal/dpop"
	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// DPoPDeps is what sender-constrained tokens (RFC 9449) need.
type DPoPDeps struct {
	// Verifier checks proofs; nil leaves DPoP unsupported: the header is
	// ignored and tokens are Bearer tokens (RFC 9449 §5 lets a server
	// that does not support DPoP do so).
	Verifier *dpop.Verifier
}

// checkDPoP runs at the token endpoint for every grant, before client
// authentication (RFC 9449 §5): a request with a DPoP header must carry a
// valid proof for POST on this workspace's token endpoint, and with the
// workspace's nonces on a nonce we issued (§8). Asking for a nonce before
// client authentication keeps the client's retry from replaying its
// client assertion. The proof's jti is spent later, by bindDPoP. With
// nonces on, every response carries a fresh DPoP-Nonce (§8.2).
func (h *Handler) checkDPoP(w http.ResponseWriter, r *http.Request, req *request) (*dpop.Proof, error) {
	v := h.DPoP.Verifier
	values := r.Header.Values(dpop.HeaderProof)
	if v == nil || len(values) == 0 {
		return nil, nil
	}
	requireNonce := req.ws.Settings.DPoPNonce && v.Nonces != nil
	if requireNonce {
		w.Header().Set(dpop.HeaderNonce, v.Nonces.Issue(req.ws.ID, h.now()))
	}
	return v.Check(values, h.dpopRequest(req, requireNonce))
}

func (h *Handler) dpopRequest(req *request, requireNonce bool) dpop.Request {
	return dpop.Request{WorkspaceID: req.ws.ID, Method: http.MethodPost, URI: endpoint.TokenEndpoint(req.issuer), RequireNonce: requireNonce}
}

// bindDPoP runs after client authentication: a client registered with
// dpop_bound_access_tokens must have sent a proof (§5.2); the proof's jti
// is spent (§11.1) and its key binds the tokens (req.dpopJKT).
//
// Where the grant writes nothing that a replayed proof could waste
// (spendWhileMinting), the spend runs while the token is minted and
// process answers only after awaitDPoPSpend saw it committed: a replayed
// proof gets invalid_dpop_proof and its freshly signed token is dropped
// unseen. Every other grant spends here, before it redeems a code or
// rotates a refresh token, so that a replayed proof never burns them.
func (h *Handler) bindDPoP(ctx context.Context, req *request, p *dpop.Proof) error {
	if p == nil {
		if req.client.DPoPBoundAccessTokens {
			return &oauth2.Error{Code: dpop.ErrInvalidProof, Description: "this client must send a DPoP proof with every token request (dpop_bound_access_tokens)"}
		}
		return nil
	}
	if spendWhileMinting(req) {
		spent := make(chan error, 1)
		go func() {
			// The server's recovery middleware does not cover this
			// goroutine: a panic must become this request's error.
			defer func() {
				if r := recover(); r != nil {
					spent <- errUnavailable(fmt.Errorf("grants: spending the DPoP proof jti panicked: %v", r))
				}
			}()
			spent <- h.spendDPoP(ctx, req, p)
		}()
		req.dpopSpent = spent
		req.dpopJKT = p.JKT
		return nil
	}
	if err := h.spendDPoP(ctx, req, p); err != nil {
		return err
	}
	req.dpopJKT = p.JKT
	return nil
}

// spendWhileMinting: client_credentials redeems nothing, so a token it
// drops after a replayed proof costs nobody anything. A JWT access token
// is only signed; an opaque one is a stored row whose value was never
// shown to anyone, so it can never be presented and goes with the
// periodic clean-up at its expiry. Its insert and the spend are two
// group commits that then run at the same time instead of one after the
// other.
func spendWhileMinting(req *request) bool {
	return req.grantType == oauth2.GrantClientCredentials
}

// spendDPoP spends the proof's jti in the shared replay store (§11.1).
func (h *Handler) spendDPoP(ctx context.Context, req *request, p *dpop.Proof) error {
	if err := h.DPoP.Verifier.Spend(ctx, p, h.dpopRequest(req, false)); err != nil {
		if !dpop.IsProofError(err) {
			return errUnavailable(err)
		}
		return err
	}
	return nil
}

// awaitDPoPSpend waits for the spend bindDPoP started, if any: the token
// is answered only once the jti is committed as used (§11.1).
func (h *Handler) awaitDPoPSpend(req *request) error {
	if req.dpopSpent == nil {
		return nil
	}
	err := <-req.dpopSpent
	req.dpopSpent = nil
	return err
}

// bindAccessToken adds the confirmation of the request's DPoP key to an
// access token's content (RFC 9449 §6.1: cnf.jkt), for JWT and opaque
// tokens alike (the opaque row keeps it for introspection, §6.2). A cnf
// from anywhere else (a claim mapping) is removed: only a verified proof
// binds a token.
func bindAccessToken(req *request, at tokens.AccessToken) tokens.AccessToken {
	_, mapped := at.Extra[dpop.ConfirmationClaim]
	if req.dpopJKT == "" && req.certThumbprint == "" && !mapped {
		return at
	}
	extra := maps.Clone(at.Extra)
	if extra == nil {
		extra = map[string]any{}
	}
	delete(extra, dpop.ConfirmationClaim)
	cnf := map[string]any{}
	if req.dpopJKT != "" {
		cnf = dpop.Confirmation(req.dpopJKT)
	}
	if req.certThumbprint != "" {
		cnf[endpoint.X5TConfirmation] = req.certThumbprint // RFC 8705 §3.1 (mtls.go)
	}
	if len(cnf) > 0 {
		extra[dpop.ConfirmationClaim] = cnf
	}
	at.Extra = extra
	return at
}

// tokenType is the token_type of the response: DPoP for a bound access
// token (RFC 9449 §5), the grant's own otherwise (Bearer, or N_A for a
// token exchange issuing no access token, RFC 8693 §2.2.1).
func tokenType(req *request, grants string) string {
	if req.dpopJKT != "" && grants == "Bearer" {
		return dpop.Scheme
	}
	return grants
}

// familyBinding is the key a new token family's refresh tokens are bound
// to: the DPoP key of a public client (RFC 9449 §5: "refresh tokens issued
// to public clients ... MUST be bound"); confidential clients' refresh
// tokens are bound by client authentication and may be refreshed with a
// new key.
func familyBinding(req *request) string {
	if req.client.Type == oauth2.ClientPublic || req.authMethod == oauth2.AuthNone {
		return req.dpopJKT
	}
	return ""
}

// checkFamilyBinding refuses a refresh of a key-bound family without a
// proof by that key (RFC 9449 §5); the refresh token stays usable with the
// right key.
func checkFamilyBinding(req *request, fam storage.TokenFamily) error {
	if fam.DPoPJKT != "" && fam.DPoPJKT != req.dpopJKT {
		return oauth2.NewError(oauth2.ErrInvalidGrant, "the refresh token is bound to a DPoP key: send a DPoP proof signed with that key")
	}
	return nil
}

// checkCodeBinding enforces dpop_jkt of the authorization request
// (RFC 9449 §10): the code is redeemed only with a proof by that key.
func checkCodeBinding(req *request, code storage.AuthCode) error {
	if code.DPoPJKT != "" && code.DPoPJKT != req.dpopJKT {
		return oauth2.NewError(oauth2.ErrInvalidGrant, "the authorization code is bound to a DPoP key (dpop_jkt): send a DPoP proof signed with that key")
	}
	return nil
}
