package dpop

import (
	"testing"

	json "github.com/go-json-experiment/json"
)

// TestMemberListsMatchStructs: every name of forbiddenHeaders and
// privateMembers is a field of the structs the strict decoder fills, and
// present with any value (null included) it is refused by name.
func TestMemberListsMatchStructs(t *testing.T) {
	for _, name := range forbiddenHeaders {
		var h proofHeader
		if err := json.Unmarshal([]byte(`{"`+name+`":null}`), &h); err != nil {
			t.Fatal(err)
		}
		if got, ok := h.forbidden(); !ok || got != name {
			t.Errorf("header member %q: forbidden() = %q, %v", name, got, ok)
		}
	}
	for _, name := range privateMembers {
		var m jwkMembers
		if err := json.Unmarshal([]byte(`{"`+name+`":null}`), &m); err != nil {
			t.Fatal(err)
		}
		if !m.private() {
			t.Errorf("jwk member %q not seen as private", name)
		}
	}
	var m jwkMembers
	if err := json.Unmarshal([]byte(`{"kty":"EC","crv":"P-256","x":"AA","y":"AA","D":"x"}`), &m); err != nil || m.private() {
		t.Errorf("public members (and a differently cased name) seen as private: %v", err)
	}
}
