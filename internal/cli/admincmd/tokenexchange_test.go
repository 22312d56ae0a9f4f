package admincmd_test

import (
	"strings"
	"testing"
)

// TestClientTokenExchangeFlags: `clients update --token-exchange-*`
// changes only the settings named (short token type names accepted), ""
// clears a list, and the API's refusals (refresh tokens without the
// refresh_token grant type) come back naming the field.
func TestClientTokenExchangeFlags(t *testing.T) {
	srv := server(t)
	mustRun(t, srv, "clients", "create", "--client-id", "tx-cli", "--name", "Exchanger",
		"--grant-type", "client_credentials", "--grant-type", "urn:ietf:params:oauth:grant-type:token-exchange")
	out := mustRun(t, srv, "clients", "update", "tx-cli", "--token-exchange-subject-type", "access_token",
		"--token-exchange-subject-type", "urn:ietf:params:oauth:token-type:id_token", "--token-exchange-delegate",
		"--token-exchange-audience", "billing-batch")
	contains(t, out, "Subject token types:", "access_token", "id_token", "Delegation:", "yes", "Impersonation:", "no", "billing-batch")
	out = mustRun(t, srv, "clients", "update", "tx-cli", "--token-exchange-impersonate", "--token-exchange-audience", "")
	contains(t, out, "Impersonation:", "yes", "Delegation:", "yes", "access_token")
	if strings.Contains(out, "billing-batch") {
		t.Fatalf("--token-exchange-audience \"\" kept the audience:\n%s", out)
	}
	_, err := run(t, srv, "clients", "update", "tx-cli", "--token-exchange-refresh-tokens")
	if err == nil || !strings.Contains(err.Error(), "refresh_tokens") {
		t.Fatalf("refresh tokens without the grant type: %v, want an error naming refresh_tokens", err)
	}
}
