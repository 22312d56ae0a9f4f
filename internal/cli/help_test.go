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

// TestServeHelpPlaceholders: every flag of serve shows a plain placeholder,
// never a word of its description (pflag takes a backquoted word as one).
func TestServeHelpPlaceholders(t *testing.T) {
	root := NewRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"serve", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	help := out.String()
	for _, want := range []string{"--base-url string", "--data-dir string"} {
		if !strings.Contains(help, want) {
			t.Errorf("serve --help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "`") || strings.Contains(help, "--base-url {") || strings.Contains(help, "--data-dir $") {
		t.Errorf("serve --help shows a description word as a placeholder:\n%s", help)
	}
}
