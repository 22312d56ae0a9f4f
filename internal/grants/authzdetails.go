package grants

import (
	"context"
	"errors"
	"maps"
	"net/url"

	"github.com/latchkey/latchkey/internal/authzdetails"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// requestedDetails reads authorization_details at the token endpoint
// (RFC 9396 §6): validated in full for client_credentials (the grant has
// no earlier step that could), kept for narrowing by the code and refresh
// grants (§6.1, §7), refused with any other grant. Errors are
// invalid_authorization_details (§5).
func (h *Handler) requestedDetails(ctx context.Context, req *request, form url.Values) error {
	vals, ok := form[authzdetails.Param]
	if !ok {
		return nil
	}
	ds, err := authzdetails.Parse(vals[0])
	if err != nil {
		return err
	}
	switch req.grantType {
	case oauth2.GrantClientCredentials:
		catalog, err := h.scopeCatalogOf(ctx, req)
		if err != nil {
			return err
		}
		if err := authzdetails.ForClient(catalog.Refs(), req.client).Validate(ds); err != nil {
			var protocol *oauth2.Error
			if errors.As(err, &protocol) {
				return err
			}
			return errUnavailable(err)
		}
		req.authzDetails = authzdetails.Encode(ds)
	case oauth2.GrantAuthorizationCode, oauth2.GrantRefreshToken:
		req.narrowDetails = ds
	default:
		return &oauth2.Error{Code: authzdetails.ErrInvalid, Description: "authorization_details is not supported with this grant type"}
	}
	return nil
}

// grantDetails sets the details of the tokens issued from fam: all of
// those granted, or the subset the request asked for (RFC 9396 §6.1, §7:
// never more than granted).
func grantDetails(req *request, fam storage.TokenFamily) error {
	if len(fam.AuthorizationDetails) == 0 {
		if req.narrowDetails != nil {
			return &oauth2.Error{Code: authzdetails.ErrInvalid, Description: "authorization_details were not granted: a refresh may only ask for granted details"}
		}
		return nil
	}
	if req.narrowDetails == nil {
		req.authzDetails = fam.AuthorizationDetails
		return nil
	}
	granted, err := authzdetails.Decode(fam.AuthorizationDetails)
	if err != nil {
		return errUnavailable(err)
	}
	ds, err := authzdetails.Narrow(req.narrowDetails, granted)
	if err != nil {
		return err
	}
	req.authzDetails = authzdetails.Encode(ds)
	return nil
}

// withAuthorizationDetails puts the request's details in the access
// token's authorization_details claim (RFC 9396 §9.1), over any mapped
// claim of that name.
func withAuthorizationDetails(req *request, at tokens.AccessToken) tokens.AccessToken {
	if len(req.authzDetails) == 0 {
		return at
	}
	extra := maps.Clone(at.Extra)
	if extra == nil {
		extra = map[string]any{}
	}
	extra[authzdetails.Claim] = req.authzDetails
	at.Extra = extra
	return at
}
