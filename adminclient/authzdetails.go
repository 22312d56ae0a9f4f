package adminclient

import "encoding/json"

// AuthorizationDetailType is one authorization_details type a service
// accepts (RFC 9396 §2): its name, a description shown to people on the
// consent page, and the JSON Schema its objects must satisfy (a single
// self-contained document: external $ref is refused).
type AuthorizationDetailType struct {
	Type        string          `json:"type"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
}
