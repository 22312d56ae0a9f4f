package device

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
)

// checkPolicies runs the client's user policy (or the workspace's
// default), then the access policy of each requested scope's service,
// with the user who approves. A denial is access_denied (RFC 8628 §3.5)
// with the rule's message; err is a storage failure.
func (h *Handler) checkPolicies(r *http.Request, pg *page, d storage.DeviceCode, client storage.Client) (*oauth2.Error, error) {
	if h.Policies == nil {
		return nil, nil
	}
	ids := []string{client.UserPolicyID}
	if ids[0] == "" {
		ids[0] = pg.ws.Settings.DefaultUserPolicyID
	}
	catalog, err := storage.IndexScopes(r.Context(), h.Store, pg.ws.ID)
	if err != nil {
		return nil, err
	}
	ids = append(ids, policy.AccessPolicies(catalog.RefsOf(d.Scopes), d.Scopes)...)
	in := policy.Input{
		User:      policy.FromUser(pg.signed.User),
		Client:    policy.FromClient(client),
		Workspace: policy.Workspace{ID: pg.ws.ID},
		Request: policy.Request{
			GrantType: oauth2.GrantDeviceCode,
			Scopes:    d.Scopes,
			RemoteIP:  endpoint.RemoteIP(r),
			Time:      h.now(),
		},
	}
	for _, id := range ids {
		if id == "" {
			continue
		}
		dec, err := h.Policies.Check(r.Context(), pg.ws.ID, id, in)
		if err != nil {
			return nil, err
		}
		if !dec.Allow {
			return oauth2.NewError(oauth2.ErrAccessDenied, dec.Message), nil
		}
	}
	return nil, nil
}
