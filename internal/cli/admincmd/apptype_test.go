package admincmd_test

import (
	"strings"
	"testing"
)

// TestClientApplicationTypeFlag: `clients create --application-type`
// brings the type's defaults and prints it; `clients update` changes it;
// a rule violation is the API's error naming the field.
func TestClientApplicationTypeFlag(t *testing.T) {
	srv := server(t)
	out := mustRun(t, srv, "clients", "create", "--client-id", "spa-cli", "--name", "SPA", "--application-type", "spa",
		"--redirect-uri", "https://app.example/cb")
	contains(t, out, "Application type:", "spa", "public")
	out = mustRun(t, srv, "clients", "create", "--client-id", "svc-cli", "--name", "Svc", "--application-type", "service")
	contains(t, out, "Application type:", "service", "client_credentials")
	_, err := run(t, srv, "clients", "update", "svc-cli", "--redirect-uri", "https://app.example/cb")
	if err == nil || !strings.Contains(err.Error(), "redirect_uris") {
		t.Fatalf("service with redirect: %v, want an error naming redirect_uris", err)
	}
	out = mustRun(t, srv, "clients", "update", "svc-cli", "--application-type", "web")
	contains(t, out, "Application type:", "web")
}
