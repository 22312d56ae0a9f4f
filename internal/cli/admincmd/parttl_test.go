package admincmd_test

import (
	"strings"
	"testing"
)

// TestWorkspacePushedRequestTTLFlag: `workspaces update ID
// --pushed-request-ttl 2m` sets the lifetime of PAR request_uri values
// (RFC 9126 §2.2), shown by `workspaces get`; a value outside 10s..10m is
// the API's error naming the field.
func TestWorkspacePushedRequestTTLFlag(t *testing.T) {
	srv := server(t)
	if out := mustRun(t, srv, "workspaces", "get", "default"); !strings.Contains(out, "1m0s") {
		t.Fatalf("default lifetime not shown: %s", out)
	}
	mustRun(t, srv, "workspaces", "update", "default", "--pushed-request-ttl", "2m")
	contains(t, mustRun(t, srv, "workspaces", "get", "default"), "PAR request_uri lifetime:", "2m0s")
	if out := mustRun(t, srv, "workspaces", "get", "default", "-o", "json"); !strings.Contains(out, `"pushed_request_ttl":120`) {
		t.Fatalf("workspace settings: %s", out)
	}
	for _, bad := range []string{"5s", "11m"} {
		if _, err := run(t, srv, "workspaces", "update", "default", "--pushed-request-ttl", bad); err == nil ||
			!strings.Contains(err.Error(), "pushed_request_ttl") {
			t.Errorf("--pushed-request-ttl %s: %v, want an error naming pushed_request_ttl", bad, err)
		}
	}
}
