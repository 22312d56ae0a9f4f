package e2etest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// AdminRequest is a request to the admin REST API, {base}/admin/v1{path},
// with the admin bearer token and, when body is not nil, body as JSON.
func AdminRequest(t testing.TB, base, adminToken, method, path string, body any) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("admin %s %s: marshal: %v", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, base+"/admin/v1"+path, rd)
	if err != nil {
		t.Fatalf("admin %s %s: %v", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// RequireAdminStatus fails t unless an admin API answer (status, raw
// body) to method path has status want, then decodes raw into out when
// out is not nil.
func RequireAdminStatus(t testing.TB, method, path string, status int, raw []byte, want int, out any) {
	t.Helper()
	if status != want {
		t.Fatalf("admin %s %s: status %d, want %d: %s", method, path, status, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("admin %s %s: decode: %v: %s", method, path, err, raw)
		}
	}
}
