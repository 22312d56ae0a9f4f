package admincmd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServiceDetailTypesFlag: --authorization-detail-type declares a
// service's RFC 9396 types from files (one type or an array), the server
// refuses a schema that does not compile, and a file holding [] clears
// the list.
func TestServiceDetailTypesFlag(t *testing.T) {
	srv := server(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	one := write("one.json", `{"type":"payment_initiation","description":"Initiate a payment","schema":{"type":"object","required":["instructedAmount"]}}`)
	list := write("list.json", `[{"type":"account_information","description":"Read accounts","schema":{"type":"object"}}]`)
	bad := write("bad.json", `{"type":"x","schema":{"type":"objekt"}}`)
	typo := write("typo.json", `{"type":"x","shema":{}}`)
	empty := write("empty.json", `[]`)

	contains(t, mustRun(t, srv, "services", "create", "--id", "pay", "--name", "Payments", "--identifier", "https://pay.example",
		"--scope", "payments", "--authorization-detail-type", one), "AUTHORIZATION DETAILS TYPE", "payment_initiation", "Initiate a payment")
	contains(t, mustRun(t, srv, "services", "update", "pay", "--authorization-detail-type", one, "--authorization-detail-type", list),
		"payment_initiation", "account_information")
	out, err := run(t, srv, "services", "update", "pay", "--authorization-detail-type", bad)
	if err == nil {
		t.Fatalf("a schema that does not compile was accepted:\n%s", out)
	}
	contains(t, out+err.Error(), "authorization_detail_types[0].schema")
	if out, err := run(t, srv, "services", "update", "pay", "--authorization-detail-type", typo); err == nil {
		t.Fatalf("a misspelt member was accepted:\n%s", out)
	}
	if got := mustRun(t, srv, "services", "update", "pay", "--authorization-detail-type", empty); strings.Contains(got, "AUTHORIZATION DETAILS TYPE") {
		t.Fatalf("the list was not cleared:\n%s", got)
	}
}
