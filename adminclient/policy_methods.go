package adminclient

import (
	"context"
	"net/http"
)

// Policies are the CEL policies of workspace ws. Update saves a new
// version; Delete is refused (409) while the policy is attached.
func (c *Client) Policies(ws string) Collection[Policy, PolicyRequest] {
	return Collection[Policy, PolicyRequest]{c, wsPath(ws) + "/policies"}
}

func policyPath(ws, id string) string { return wsPath(ws) + "/policies/" + seg(id) }

// ListPolicyVersions lists every saved version of a policy, newest first.
func (c *Client) ListPolicyVersions(ctx context.Context, ws, id string) ([]Policy, error) {
	return items[Policy](ctx, c, http.MethodGet, policyPath(ws, id)+"/versions", nil)
}

// RollbackPolicy saves the rules of an earlier version as the next version.
func (c *Client) RollbackPolicy(ctx context.Context, ws, id string, version int) (Policy, error) {
	return call[Policy](ctx, c, http.MethodPost, policyPath(ws, id)+"/rollback", nil, PolicyRollback{Version: version})
}

// PolicyTemplates lists the built-in policy templates.
func (c *Client) PolicyTemplates(ctx context.Context) ([]PolicyTemplate, error) {
	return items[PolicyTemplate](ctx, c, http.MethodGet, "/policy-templates", nil)
}

// ClientPolicies returns the policies attached to a client.
func (c *Client) ClientPolicies(ctx context.Context, ws, id string) (ClientPolicies, error) {
	return call[ClientPolicies](ctx, c, http.MethodGet, clientPath(ws, id)+"/policies", nil, nil)
}

// SetClientPolicies replaces the policies attached to a client.
func (c *Client) SetClientPolicies(ctx context.Context, ws, id string, p ClientPolicies) (ClientPolicies, error) {
	return call[ClientPolicies](ctx, c, http.MethodPut, clientPath(ws, id)+"/policies", nil, p)
}

// SetDefaultUserPolicy sets the workspace's default user policy ("" for none).
func (c *Client) SetDefaultUserPolicy(ctx context.Context, ws, id string) (PolicyRef, error) {
	return call[PolicyRef](ctx, c, http.MethodPut, wsPath(ws)+"/default-user-policy", nil, PolicyRef{PolicyID: id})
}

// SetServiceAccessPolicy sets a service's access policy ("" for none).
func (c *Client) SetServiceAccessPolicy(ctx context.Context, ws, serviceID, id string) (PolicyRef, error) {
	return call[PolicyRef](ctx, c, http.MethodPut, wsPath(ws)+"/services/"+seg(serviceID)+"/access-policy", nil, PolicyRef{PolicyID: id})
}

// PolicyWhatIf asks what the token endpoint would do for a request, without
// issuing anything: each policy and rule result, the decision and claims.
func (c *Client) PolicyWhatIf(ctx context.Context, ws string, req WhatIfRequest) (WhatIfResult, error) {
	return call[WhatIfResult](ctx, c, http.MethodPost, wsPath(ws)+"/policies/what-if", nil, req)
}
