package admincmd_test

import (
	"strings"
	"testing"
)

// TestClientSubjectFormatFlag: `clients update ID --subject-format`
// changes only that setting, prints it, and prints the admin API's
// warning for a username or e-mail subject; an unknown format is the
// API's error naming the field.
func TestClientSubjectFormatFlag(t *testing.T) {
	srv := server(t)
	out := mustRun(t, srv, "clients", "create", "--client-id", "sf-cli", "--name", "Subjects")
	contains(t, out, "Subject format:", "id")
	if strings.Contains(out, "Warning:") {
		t.Fatalf("a client with id subjects printed a warning:\n%s", out)
	}
	out = mustRun(t, srv, "clients", "update", "sf-cli", "--subject-format", "email")
	contains(t, out, "Subject format:", "email", "Warning:", "changes when the user's e-mail address changes", "Subjects")
	out = mustRun(t, srv, "clients", "update", "sf-cli", "--subject-format", "pairwise")
	contains(t, out, "Subject format:", "pairwise")
	if strings.Contains(out, "Warning:") {
		t.Fatalf("a pairwise client printed a warning:\n%s", out)
	}
	_, err := run(t, srv, "clients", "update", "sf-cli", "--subject-format", "nickname")
	if err == nil || !strings.Contains(err.Error(), "subject_format") {
		t.Fatalf("unknown format: %v, want an error naming subject_format", err)
	}
}
