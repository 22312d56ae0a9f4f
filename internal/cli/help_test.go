package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestHelpNeverShowsAdminToken guards against printing the admin token as a
// flag default: help output ends up in terminals, CI logs and bug reports.
func TestHelpNeverShowsAdminToken(t *testing.T) {
	const token = "help-output-must-not-contain-this-token-0123456789"
	t.Setenv("LATCHKEY_ADMIN_TOKEN", token)
	for _, args := range [][]string{{"admin", "--help"}, {"admin", "clients", "list", "--help"}, {"bench", "--help"}} {
		root := NewRootCommand()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if strings.Contains(out.String(), token) {
			t.Errorf("%v printed the admin token", args)
		}
	}
}
