package admincmd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClientDetailTypesFlag: --authorization-details-type sets a client's
// RFC 9396 §10 authorization_details_types on create and update and the
// detail table prints them; a type no service declares is the API's error
// naming the field; "" clears the list.
func TestClientDetailTypesFlag(t *testing.T) {
	srv := server(t)
	typ := filepath.Join(t.TempDir(), "pay.json")
	if err := os.WriteFile(typ, []byte(`{"type":"payment_initiation","schema":{"type":"object"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, srv, "services", "create", "--id", "pay", "--name", "Payments", "--identifier", "https://pay.example",
		"--scope", "payments", "--authorization-detail-type", typ)
	contains(t, mustRun(t, srv, "clients", "create", "--client-id", "rar-cli", "--name", "RAR", "--scope", "payments",
		"--authorization-details-type", "payment_initiation"), "Authorization details types:", "payment_initiation")
	out, err := run(t, srv, "clients", "update", "rar-cli", "--authorization-details-type", "payment_initiation", "--authorization-details-type", "wire")
	if err == nil {
		t.Fatalf("an undeclared type was accepted:\n%s", out)
	}
	contains(t, out+err.Error(), "authorization_details_types", "wire")
	if got := mustRun(t, srv, "clients", "get", "rar-cli", "-o", "json"); !strings.Contains(got, `"authorization_details_types":["payment_initiation"]`) {
		t.Fatalf("a refused update changed the list: %s", got)
	}
	if got := mustRun(t, srv, "clients", "update", "rar-cli", "--authorization-details-type", ""); strings.Contains(got, "Authorization details types") {
		t.Fatalf("the list was not cleared:\n%s", got)
	}
}
