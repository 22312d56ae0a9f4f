package authorize

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// maxResources bounds the RFC 8707 resource parameters of one request.
const maxResources = 20

// checkResources reads the RFC 8707 §2 resource parameters: each an
// absolute URI without a fragment (else invalid_target), kept in request
// order without repeats for the policies (request.resources). The token
// endpoint checks them against the workspace's services again.
func checkResources(_ context.Context, _ *flow, p url.Values, v *validated) error {
	vals := p["resource"]
	if len(vals) > maxResources {
		return oauth2.NewError(oauth2.ErrInvalidTarget, "at most 20 resource parameters are allowed")
	}
	for _, r := range vals {
		u, err := url.Parse(r)
		if strings.ContainsRune(r, '#') || err != nil || !u.IsAbs() || (u.Host == "" && u.Opaque == "") {
			return oauth2.NewError(oauth2.ErrInvalidTarget, "resource must be an absolute URI without a fragment (RFC 8707 §2)")
		}
		if !slices.Contains(v.req.Resources, r) {
			v.req.Resources = append(v.req.Resources, r)
		}
	}
	return nil
}

// checkPolicies runs the client's user policy (or the workspace's
// default), then the access policy of each requested scope's service,
// once the user is signed in and before consent; policy.Applicable picks
// them, as at the token endpoint. A denial is access_denied (RFC 6749
// §4.1.2.1) with the rule's message, redirected to the client; err is a
// storage failure.
func (h *Handler) checkPolicies(r *http.Request, f *flow, v *validated, signed webui.Signed) (denied *oauth2.Error, err error) {
	if h.Policies == nil {
		return nil, nil
	}
	catalog, err := storage.IndexScopes(r.Context(), h.Store, f.ws.ID)
	if err != nil {
		return nil, unavailable(err)
	}
	ids := policy.Applicable(storage.PolicyKindUser, f.ws, v.client, nil, nil)
	ids = append(ids, policy.Applicable(storage.PolicyKindAccess, f.ws, v.client, catalog.RefsOf(v.req.Scopes), v.req.Scopes)...)
	for _, id := range ids {
		if denied, err := h.checkPolicy(r, f, v, signed, id); denied != nil || err != nil {
			return denied, err
		}
	}
	return nil, nil
}

func (h *Handler) checkPolicy(r *http.Request, f *flow, v *validated, signed webui.Signed, id string) (*oauth2.Error, error) {
	user := policy.FromUser(signed.User)
	// The browser's sign-in session: how and when the user signed in.
	user.Authentication = policy.Authentication{Methods: signed.Session.AMR, Time: signed.Session.AuthTime}
	d, err := h.Policies.Check(r.Context(), f.ws.ID, id, policy.Input{
		User:      user,
		Client:    policy.FromClient(v.client),
		Workspace: policy.Workspace{ID: f.ws.ID},
		Request: policy.Request{
			GrantType: oauth2.GrantAuthorizationCode,
			Scopes:    v.req.Scopes,
			Resources: v.req.Resources,
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
