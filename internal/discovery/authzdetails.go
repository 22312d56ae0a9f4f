package discovery

import (
	"context"

	"github.com/latchkey/latchkey/internal/authzdetails"
	"github.com/latchkey/latchkey/internal/endpoint"
)

// addAuthorizationDetails publishes authorization_details_types_supported
// (RFC 9396 §10): the types of the workspace's services, read through the
// same cached scope list the authorization and token endpoints validate
// against, so discovery lists exactly the types they accept.
func (h *Handler) addAuthorizationDetails(ctx context.Context, md *Metadata, wsID string) error {
	refs, err := h.Store.ListScopes(ctx, wsID)
	if err != nil {
		return endpoint.ErrUnavailable(err)
	}
	md.AuthorizationDetailsTypesSupported = authzdetails.SupportedTypes(refs)
	return nil
}
