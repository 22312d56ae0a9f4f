package admincmd_test

import (
	"strings"
	"testing"
)

// TestWorkspaceFAPIProfileFlag: `workspaces update ID --fapi-profile P`
// sets and prints the FAPI 2.0 profile (docs/fapi.md); an unknown profile
// is the API's error naming the field; "" turns it off.
func TestWorkspaceFAPIProfileFlag(t *testing.T) {
	srv := server(t)
	mustRun(t, srv, "workspaces", "create", "fapi-cli", "--name", "FAPI", "--signing-alg", "ES256")
	out := mustRun(t, srv, "workspaces", "update", "fapi-cli", "--fapi-profile", "fapi2-message-signing")
	contains(t, out, "FAPI 2.0 profile:", "fapi2-message-signing")
	if _, err := run(t, srv, "workspaces", "update", "fapi-cli", "--fapi-profile", "fapi3"); err == nil || !strings.Contains(err.Error(), "fapi_profile") {
		t.Errorf("unknown profile: %v, want an error naming fapi_profile", err)
	}
	out = mustRun(t, srv, "workspaces", "update", "fapi-cli", "--fapi-profile", "")
	contains(t, out, "FAPI 2.0 profile:", "off")
}
