package authorize

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
)

// checkPolicies runs the client's user policy (or the workspace's
// default), then the access policy of each requested scope's service,
// once the user is signed in and before consent. A denial is
// access_denied (RFC 6749 §4.1.2.1) with the rule's message, redirected
// to the client; err is a storage failure.
func (h *Handler) checkPolicies(r *http.Request, f *flow, v *validated, user storage.User) (denied *oauth2.Error, err error) {
	if h.Policies == nil {
		return nil, nil
	}
	ids := []string{v.client.UserPolicyID}
	if ids[0] == "" {
		ids[0] = f.ws.Settings.DefaultUserPolicyID
	}
	refs, err := h.Store.ListScopes(r.Context(), f.ws.ID)
	if err != nil {
		return nil, unavailable(err)
	}
	ids = append(ids, policy.AccessPolicies(refs, v.req.Scopes)...)
	for _, id := range ids {
		if id == "" {
			continue
		}
		if denied, err := h.checkPolicy(r, f, v, user, id); denied != nil || err != nil {
			return denied, err
		}
	}
	return nil, nil
}

func (h *Handler) checkPolicy(r *http.Request, f *flow, v *validated, user storage.User, id string) (*oauth2.Error, error) {
	d, err := h.Policies.Check(r.Context(), f.ws.ID, id, policy.Input{
		User:      policy.FromUser(user),
		Client:    policy.FromClient(v.client),
		Workspace: policy.Workspace{ID: f.ws.ID},
		Request: policy.Request{
			GrantType: oauth2.GrantAuthorizationCode,
			Scopes:    v.req.Scopes,
			RemoteIP:  endpoint.RemoteIP(r),
			Time:      h.now().UTC(),
		},
	})
	if err != nil {
		return nil, unavailable(err)
	}
	if !d.Allow {
		return oauth2.NewError(oauth2.ErrAccessDenied, d.Message), nil
	}
	return nil, nil
}
