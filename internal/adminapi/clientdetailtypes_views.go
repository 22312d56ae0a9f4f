package adminapi

import (
	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/storage"
)

// clientDetailTypesView fills the client's authorization_details_types
// (RFC 9396 §10) into v; responses always carry the list, empty when the
// client uses its services' types.
func clientDetailTypesView(v *adminclient.ClientFlow, c storage.Client) {
	types := nonNil(c.AuthorizationDetailsTypes)
	v.AuthorizationDetailsTypes = &types
}
