package dcr

import "github.com/latchkey/latchkey/internal/storage"

// detailTypesMetadata is RFC 9396 §10's client metadata: the
// authorization_details types the client uses. The service refuses a type
// no service of the workspace declares with invalid_client_metadata
// naming the member; an empty list allows every type of a service the
// client is allowed a scope of.
type detailTypesMetadata struct {
	AuthorizationDetailsTypes []string `json:"authorization_details_types,omitempty"`
}

func detailTypesMetadataOf(c storage.Client) detailTypesMetadata {
	return detailTypesMetadata{AuthorizationDetailsTypes: c.AuthorizationDetailsTypes}
}
