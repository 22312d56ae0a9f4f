package authorize

import (
	"context"
	"errors"
	"net/url"

	"github.com/latchkey/latchkey/internal/authzdetails"
	"github.com/latchkey/latchkey/internal/oauth2"
)

// checkAuthorizationDetails reads authorization_details (RFC 9396 §2):
// a JSON array whose entries each have a type declared by a service the
// client may use and match that type's JSON Schema; anything else is
// invalid_authorization_details (§5), redirected to the client like the
// other errors of a request whose redirect URI is trusted. Pushed
// requests (RFC 9126) and request objects (RFC 9101, §3 of RFC 9396) pass
// the same step, so every way in validates alike.
func (h *Handler) checkAuthorizationDetails(ctx context.Context, f *flow, p url.Values, v *validated) error {
	vals := p[authzdetails.Param]
	switch {
	case len(vals) == 0:
		return nil
	case len(vals) > 1:
		return oauth2.NewError(oauth2.ErrInvalidRequest, "authorization_details is repeated")
	}
	ds, err := authzdetails.Parse(vals[0])
	if err != nil {
		return err
	}
	refs, err := h.Store.ListScopes(ctx, f.ws.ID)
	if err != nil {
		return unavailable(err)
	}
	if err := authzdetails.ForClient(refs, v.client).Validate(ds); err != nil {
		var protocol *oauth2.Error
		if errors.As(err, &protocol) {
			return err
		}
		return unavailable(err)
	}
	v.req.AuthorizationDetails = authzdetails.Encode(ds)
	return nil
}

// detailViews describes the request's authorization details for the
// consent page (RFC 9396 §2: the user sees each type's description and
// its fields); nil without details.
func (h *Handler) detailViews(ctx context.Context, wsID string, v *validated) ([]authzdetails.View, error) {
	if len(v.req.AuthorizationDetails) == 0 {
		return nil, nil
	}
	ds, err := authzdetails.Decode(v.req.AuthorizationDetails)
	if err != nil {
		return nil, unavailable(err)
	}
	refs, err := h.Store.ListScopes(ctx, wsID)
	if err != nil {
		return nil, unavailable(err)
	}
	return authzdetails.Views(ds, authzdetails.ForClient(refs, v.client)), nil
}
