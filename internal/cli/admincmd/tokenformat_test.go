package admincmd_test

import (
	"strings"
	"testing"
)

// TestClientTokenFormatFlags: `clients update ID --access-token-format
// opaque --id-token-ttl 10m` changes those settings and prints them; an
// unknown format is the API's error naming the field.
func TestClientTokenFormatFlags(t *testing.T) {
	srv := server(t)
	out := mustRun(t, srv, "clients", "create", "--client-id", "tf-cli", "--name", "Formats")
	contains(t, out, "Token format:", "jwt")
	out = mustRun(t, srv, "clients", "update", "tf-cli", "--access-token-format", "opaque", "--id-token-ttl", "10m")
	contains(t, out, "Token format:", "opaque", "ID token TTL:", "10m0s", "Formats")
	_, err := run(t, srv, "clients", "update", "tf-cli", "--access-token-format", "reference")
	if err == nil || !strings.Contains(err.Error(), "access_token_format") {
		t.Fatalf("unknown format: %v, want an error naming access_token_format", err)
	}
}
