package admincmd_test

import (
	"strings"
	"testing"
)

// TestInitialAccessTokenPolicyFlags: docs/security.md R2 — the CLI sets
// every policy field, shows the narrow default, and reports the API's
// refusal of an impersonating grant without --allow-impersonation.
func TestInitialAccessTokenPolicyFlags(t *testing.T) {
	srv := server(t)
	out := mustRun(t, srv, "initial-access-tokens", "create")
	contains(t, out, "Grant types:", "client_credentials,authorization_code,refresh_token", "Impersonation:", "false", "Scopes:", "any")
	out = mustRun(t, srv, "initial-access-tokens", "create", "--description", "partner",
		"--grant-type", "authorization_code", "--grant-type", "urn:ietf:params:oauth:grant-type:jwt-bearer", "--allow-impersonation",
		"--auth-method", "private_key_jwt", "--application-type", "native", "--redirect-uri-pattern", "https://app.example/cb/")
	contains(t, out, "authorization_code,urn:ietf:params:oauth:grant-type:jwt-bearer", "private_key_jwt", "native",
		"https://app.example/cb/", "Impersonation:", "true")
	out, err := run(t, srv, "initial-access-tokens", "create", "--grant-type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
	if err == nil || !strings.Contains(out+err.Error(), "allow_impersonation") {
		t.Fatalf("impersonating grant without --allow-impersonation: %v\n%s", err, out)
	}
	contains(t, mustRun(t, srv, "initial-access-tokens", "list"), "GRANT TYPES", "IMPERSONATION", "partner")
}
