package grants

import (
	"context"
	"encoding/json"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
)

// checkMachinePolicy runs the client's machine token policy at
// client_credentials. A denial is unauthorized_client (RFC 6749 §5.2: the
// client is not authorized to obtain this token) with the rule's message.
func (h *Handler) checkMachinePolicy(ctx context.Context, req *request, grant scopeGrant) error {
	id := policy.Attached(storage.PolicyKindMachine, req.ws, req.client)
	if id == "" || h.Policies == nil {
		return nil
	}
	return h.checkPolicy(ctx, req, id, h.clientUser(ctx, req), grant, oauth2.ErrUnauthorizedClient)
}

// clientUser is the user variable of a client_credentials request: the
// client's service user, or no user. serviceUserSubject has already
// refused a missing or disabled service user.
func (h *Handler) clientUser(ctx context.Context, req *request) storage.User {
	if req.client.ServiceUserID != "" {
		if u, err := h.Store.GetUser(ctx, req.ws.ID, req.client.ServiceUserID); err == nil {
			return u
		}
	}
	return storage.User{}
}

// checkAccessPolicies runs the access policy of each service whose scopes
// are granted, once per policy, with the user (or the client alone). A
// denial is invalid_scope (RFC 6749 §5.2: the scope exceeds what may be
// granted) with the rule's message.
func (h *Handler) checkAccessPolicies(ctx context.Context, req *request, user storage.User, grant scopeGrant) error {
	if h.Policies == nil || len(grant.scopes) == 0 {
		return nil
	}
	catalog, err := h.scopeCatalogOf(ctx, req)
	if err != nil {
		return err
	}
	for _, id := range policy.Applicable(storage.PolicyKindAccess, req.ws, req.client, catalog.RefsOf(grant.scopes), grant.scopes) {
		if err := h.checkPolicy(ctx, req, id, user, grant, oauth2.ErrInvalidScope); err != nil {
			return err
		}
	}
	return nil
}

// userPolicyID is the user policy of a client: its own, or the
// workspace's default ("" when neither), as policy.Applicable selects it.
func userPolicyID(ws storage.Workspace, c storage.Client) string {
	return policy.Attached(storage.PolicyKindUser, ws, c)
}

// checkUserPolicy runs the user policy at the JWT bearer grant and at
// refresh: a denial is invalid_grant (RFC 6749 §5.2: the grant is not
// valid for this user) with the rule's message.
func (h *Handler) checkUserPolicy(ctx context.Context, req *request, user storage.User, scopes, audience []string) error {
	id := userPolicyID(req.ws, req.client)
	if id == "" || h.Policies == nil {
		return nil
	}
	return h.checkPolicy(ctx, req, id, user, scopeGrant{scopes: scopes, audience: audience}, oauth2.ErrInvalidGrant)
}

// checkPolicy evaluates one policy; a denial is code with the rule's
// message. A storage failure is 503, never a denial or an allow.
func (h *Handler) checkPolicy(ctx context.Context, req *request, id string, user storage.User, grant scopeGrant, code oauth2.ErrorCode) error {
	d, err := h.Policies.Check(ctx, req.ws.ID, id, h.policyInput(req, user, grant))
	if err != nil {
		return errUnavailable(err)
	}
	if !d.Allow {
		return oauth2.NewError(code, d.Message)
	}
	return nil
}

// policyInput is what policies and claim mappings see of a request.
func (h *Handler) policyInput(req *request, user storage.User, grant scopeGrant) policy.Input {
	u := policy.FromUser(user)
	// The sign-in behind the tokens, where one exists (req.auth).
	u.Authentication = req.auth
	in := policy.Input{
		User:      u,
		Client:    policy.FromClient(req.client),
		Workspace: policy.Workspace{ID: req.ws.ID},
		Request: policy.Request{
			GrantType:  req.grantType,
			Scopes:     grant.scopes,
			Resources:  req.resources,
			Audience:   grant.audience,
			RemoteIP:   req.remoteIP,
			Time:       h.now().UTC(),
			AuthMethod: req.authMethod,
		},
	}
	if req.claims != nil {
		in.Request.SetClaims(decodeClaims(req.claims))
	}
	return in
}

// decodeClaims decodes the assertion's claims for request.claims; jwtx
// has checked them as JSON already.
func decodeClaims(raw map[string]json.RawMessage) map[string]any {
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		var x any
		if json.Unmarshal(v, &x) == nil {
			out[k] = x
		}
	}
	return out
}

// familyAuth is the sign-in recorded in a token family: the code flow's
// session (amr, auth_time), or nothing for a JWT bearer family.
func familyAuth(fam storage.TokenFamily) policy.Authentication {
	return policy.Authentication{Methods: fam.AMR, Time: fam.AuthTime}
}
