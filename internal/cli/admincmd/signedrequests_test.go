package admincmd_test

import (
	"strings"
	"testing"
)

// TestClientSignedRequestFlags: `clients update ID
// --require-pushed-authorization-requests --authorization-signed-response-alg
// ES256` sets and prints the PAR and JARM settings (RFC 9126 §6, JARM §3);
// a request_object_signing_alg without keys and an encryption alg without
// a key are the API's errors naming the field; the workspace flag sets
// require_pushed_authorization_requests.
func TestClientSignedRequestFlags(t *testing.T) {
	srv := server(t)
	mustRun(t, srv, "clients", "create", "--client-id", "par-cli", "--name", "Signed")
	out := mustRun(t, srv, "clients", "update", "par-cli", "--require-pushed-authorization-requests",
		"--authorization-signed-response-alg", "ES256")
	contains(t, out, "Requires PAR:", "yes", "JARM signing alg:", "ES256")
	for _, tc := range []struct{ flag, value, field string }{
		{"--request-object-signing-alg", "ES256", "request_object_signing_alg"},
		{"--authorization-encrypted-response-alg", "RSA-OAEP-256", "authorization_encrypted_response_alg"},
	} {
		if _, err := run(t, srv, "clients", "update", "par-cli", tc.flag, tc.value); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s %s without keys: %v, want an error naming %s", tc.flag, tc.value, err, tc.field)
		}
	}
	mustRun(t, srv, "workspaces", "update", "default", "--require-pushed-authorization-requests")
	if out := mustRun(t, srv, "workspaces", "get", "default", "-o", "json"); !strings.Contains(out, `"require_pushed_authorization_requests":true`) {
		t.Fatalf("workspace settings: %s", out)
	}
}
