package oauth2

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
)

// TestWireDescription: every error_description on the wire is within RFC
// 6749 §5.2's character set, whatever the sentence held.
func TestWireDescription(t *testing.T) {
	for in, want := range map[string]string{
		"assertion expired":           "assertion expired",
		`"use" must be "sig"`:         "'use' must be 'sig'",
		"see RFC 7517 §4":             "see RFC 7517 section 4",
		"path C:\\x":                  "path C:/x",
		"line\nbreak\x00":             "line?break?",
		"caf\u00e9 \u2014 done\u2026": "caf? - done...",
		"client \u201cbilling\u201d is \u2018gone\u2019": "client 'billing' is 'gone'",
	} {
		if got := WireDescription(in); got != want {
			t.Errorf("WireDescription(%q) = %q, want %q", in, got, want)
		}
		if !isWireSafe(WireDescription(in)) {
			t.Errorf("WireDescription(%q) is not wire safe", in)
		}
	}
	rec := httptest.NewRecorder()
	WriteError(rec, NewError(ErrInvalidClientMetadata, `jwks: "use" must be "sig" (RFC 7517 §4.2)`))
	var body struct {
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Description != "jwks: 'use' must be 'sig' (RFC 7517 section 4.2)" {
		t.Fatalf("wire description %q (%v)", body.Description, err)
	}
}
