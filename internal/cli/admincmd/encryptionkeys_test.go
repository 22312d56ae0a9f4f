package admincmd_test

import (
	"strings"
	"testing"
)

// TestEncryptionKeys: "admin encryption-keys list|rotate|remove" against
// the admin API: the first key is listed active, a rotation lists a new
// active key and the old one previous, the active key cannot be removed
// (the API's 409 reaches the user), the previous one can.
func TestEncryptionKeys(t *testing.T) {
	srv := server(t)
	contains(t, mustRun(t, srv, "encryption-keys", "list"), "KID", "RSA-OAEP-256", "active")
	out := mustRun(t, srv, "encryption-keys", "rotate")
	var active, previous string
	for _, line := range strings.Split(out, "\n") {
		switch f := strings.Fields(line); {
		case len(f) > 2 && f[2] == "active":
			active = f[0]
		case len(f) > 2 && f[2] == "previous":
			previous = f[0]
		}
	}
	if active == "" || previous == "" || active == previous {
		t.Fatalf("after rotation:\n%s", out)
	}
	if out, err := run(t, srv, "encryption-keys", "remove", "--", active); err == nil || !strings.Contains(out+err.Error(), "rotate the encryption keys first") {
		t.Fatalf("removing the active key: %v\n%s", err, out)
	}
	contains(t, mustRun(t, srv, "encryption-keys", "remove", "--", previous), "removed encryption key "+previous)
	out = mustRun(t, srv, "-o", "json", "encryption-keys", "list")
	if strings.Contains(out, previous) || !strings.Contains(out, `"state": "active"`) && !strings.Contains(out, `"state":"active"`) {
		t.Fatalf("after removal:\n%s", out)
	}
}
