package introspect

import (
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/tokens"
)

// mappedViaMap is how withMappedClaims built the response before it wrote
// the members itself: the registered members through a map, merged over
// the mapped claims, encoded as one map. The two must give the same bytes.
func mappedViaMap(resp activeResponse, extra map[string]any) []byte {
	if !hasMappedClaims(extra) {
		b, _ := json.Marshal(resp)
		return b
	}
	out := map[string]any{}
	for k, v := range extra {
		if !internalClaim(k) {
			out[k] = v
		}
	}
	b, _ := json.Marshal(resp)
	var base map[string]any
	_ = json.Unmarshal(b, &base)
	maps.Copy(out, base)
	b, _ = json.Marshal(out)
	return b
}

func TestMappedClaimsEncoding(t *testing.T) {
	at := tokens.AccessToken{
		Issuer: "https://as.example/w/acme", Subject: "svc", ClientID: "svc", Scope: "orders:read",
		JTI: "j1", Audience: []string{"https://orders.example/api"},
		IssuedAt: time.Unix(1_800_000_000, 0), ExpiresAt: time.Unix(1_800_000_600, 0),
	}
	for name, extra := range map[string]map[string]any{
		"none":          nil,
		"internal only": {"rtf": "fam", "status": map[string]any{"status_list": map[string]any{"idx": 3.0, "uri": "u"}}},
		"dpop":          {"cnf": map[string]any{"jkt": "abc"}, "status": map[string]any{"x": 1.0}},
		"every position": {
			"_first": "a", "active": false, "b": []any{1.0, "x", nil}, "cnf": map[string]any{"x5t#S256": "t"},
			"exp": "shadowed", "iss2": true, "m": map[string]any{"z": 1.5, "a": "<&>"}, "scope": 7.0, "zz": "last",
			"sub": nil, "token_type": "x", "unicode": "é\u2028",
		},
	} {
		t.Run(name, func(t *testing.T) {
			a := at
			a.Extra = extra
			want := mappedViaMap(activeOf(a), extra)
			got, err := json.Marshal(withMappedClaims(activeOf(a), extra))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
	// No audience: null, as the struct encodes it.
	a := at
	a.Audience = nil
	a.Extra = map[string]any{"tenant": "t"}
	got, _ := json.Marshal(withMappedClaims(activeOf(a), a.Extra))
	if want := mappedViaMap(activeOf(a), a.Extra); string(got) != string(want) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// BenchmarkMappedClaimsResponse: the response of a DPoP-bound token (cnf)
// encoded the old way (through maps) and the current way.
func BenchmarkMappedClaimsResponse(b *testing.B) {
	at := tokens.AccessToken{
		Issuer: "https://as.example/w/acme", Subject: "svc", ClientID: "svc", Scope: "orders:read",
		JTI: "0123456789abcdefghijkl", Audience: []string{"https://orders.example/api"},
		IssuedAt: time.Unix(1_800_000_000, 0), ExpiresAt: time.Unix(1_800_000_600, 0),
		Extra: map[string]any{"cnf": map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}, "status": map[string]any{"status_list": map[string]any{"idx": 3.0, "uri": "https://as.example/w/acme/statuslists/1"}}},
	}
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = mappedViaMap(activeOf(at), at.Extra)
		}
	})
	b.Run("members", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(withMappedClaims(activeOf(at), at.Extra)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
