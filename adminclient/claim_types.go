package adminclient

// ClaimMapping is one extra claim computed by a CEL expression over the
// policy context (user, client, request, workspace); its value must be
// JSON. Targets: any of access_token, id_token, userinfo, introspection.
type ClaimMapping struct {
	Name       string   `json:"name"`
	Expression string   `json:"expression"`
	Targets    []string `json:"targets"`
}

// ClaimMappings is the list of a client's claim mappings, replaced whole.
type ClaimMappings struct {
	Claims []ClaimMapping `json:"claims"`
}
