package grants

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
)

// TestTokenResponseFastPathMatchesEncodingJSON: the reflection-free token
// response is byte for byte what oauth2.WriteJSON writes, with the same
// headers, and responses it cannot write plainly take oauth2.WriteJSON.
func TestTokenResponseFastPathMatchesEncodingJSON(t *testing.T) {
	base := tokenResponse{AccessToken: "eyJh.eyJz.c2ln", TokenType: "Bearer", ExpiresIn: 3600, Scope: "orders:read orders:write"}
	cases := map[string]struct {
		edit func(*tokenResponse)
		fast bool
	}{
		"plain":                 {func(*tokenResponse) {}, true},
		"empty scope":           {func(r *tokenResponse) { r.Scope = "" }, true},
		"DPoP":                  {func(r *tokenResponse) { r.TokenType = "DPoP" }, true},
		"scope with ampersand":  {func(r *tokenResponse) { r.Scope = "a&b" }, false},
		"scope with angle":      {func(r *tokenResponse) { r.Scope = "<a>" }, false},
		"scope with quote":      {func(r *tokenResponse) { r.Scope = `a"b` }, false},
		"scope with backslash":  {func(r *tokenResponse) { r.Scope = `a\b` }, false},
		"non-ASCII":             {func(r *tokenResponse) { r.Scope = "é" }, false},
		"refresh token":         {func(r *tokenResponse) { r.RefreshToken = "rt" }, false},
		"ID token":              {func(r *tokenResponse) { r.IDToken = "id" }, false},
		"issued token type":     {func(r *tokenResponse) { r.IssuedTokenType = "urn:x" }, false},
		"authorization details": {func(r *tokenResponse) { r.AuthorizationDetails = json.RawMessage(`[]`) }, false},
		"negative lifetime":     {func(r *tokenResponse) { r.ExpiresIn = -1 }, true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			resp := base
			c.edit(&resp)
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			if err := enc.Encode(&resp); err != nil {
				t.Fatal(err)
			}
			got, ok := resp.appendPlain(nil)
			if ok != c.fast {
				t.Fatalf("fast path taken = %v, want %v", ok, c.fast)
			}
			if ok && string(got) != want.String() {
				t.Fatalf("fast path wrote %q, encoding/json writes %q", got, want.String())
			}
			rec := httptest.NewRecorder()
			writeTokenResponse(rec, &resp)
			if rec.Body.String() != want.String() {
				t.Fatalf("body %q, want %q", rec.Body.String(), want.String())
			}
			if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" ||
				rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Pragma") != "no-cache" {
				t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
			}
		})
	}
}
