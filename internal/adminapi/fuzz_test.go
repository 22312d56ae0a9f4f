package adminapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDecodeJSON: any body gets a classified answer (decoded or an
// *httpError / size error), never a panic.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"name":"x"}`, `{"jwks":null}`, `[[[[`, `{"a":"\"[[["}`, `{} {}`, ``, `{"name":1e999}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		var req clientRequest
		err := decodeJSON(httptest.NewRecorder(), r, &req, false)
		if err == nil {
			return
		}
		if _, ok := err.(*httpError); !ok {
			t.Fatalf("unclassified error %T %v", err, err)
		}
	})
}
