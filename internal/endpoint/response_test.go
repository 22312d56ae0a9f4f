package endpoint

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// TestWriteNoStoreJSONMatchesWriteJSON: the token endpoint's writer sets
// exactly the headers oauth2.WriteJSON sets (RFC 6749 §5.1 no-store), the
// status, and the body unchanged.
func TestWriteNoStoreJSONMatchesWriteJSON(t *testing.T) {
	want := httptest.NewRecorder()
	oauth2.WriteJSON(want, http.StatusOK, map[string]string{"a": "b"})
	got := httptest.NewRecorder()
	WriteNoStoreJSON(got, http.StatusOK, want.Body.Bytes())
	if got.Code != want.Code || got.Body.String() != want.Body.String() {
		t.Fatalf("status %d body %q, want %d %q", got.Code, got.Body.String(), want.Code, want.Body.String())
	}
	for k, v := range want.Header() {
		if g := got.Header().Values(k); len(g) != 1 || g[0] != v[0] {
			t.Fatalf("header %s = %v, want %v", k, g, v)
		}
	}
	if len(got.Header()) != len(want.Header()) {
		t.Fatalf("headers %v, want %v", got.Header(), want.Header())
	}
}
