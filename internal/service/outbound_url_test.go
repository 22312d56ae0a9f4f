package service_test

import (
	"strings"
	"testing"
)

// TestSectorIdentifierURIErrorNamesSetting: a sector_identifier_uri the
// server may not fetch names the setting that would allow it
// (docs/security.md L1, L2), as jwks_uri does.
func TestSectorIdentifierURIErrorNamesSetting(t *testing.T) {
	env, ctx := newEnv(t)
	for uri, want := range map[string]string{
		"https://127.0.0.1/sector":  "sector_identifier_uri: must be an https URL the server may fetch: URL points to a private, loopback or reserved address (allowed only when the server enables outbound.allow_private_addresses)",
		"http://sector.example/doc": "sector_identifier_uri: must be an https URL the server may fetch: URL must use https (http only when the server enables outbound.allow_http)",
	} {
		t.Run(uri, func(t *testing.T) {
			in := codeClient("sector")
			in.SectorIdentifierURI = uri
			_, err := env.Service.CreateClient(ctx, "default", in)
			if got := strings.TrimSpace(fieldErrors(t, err)["sector_identifier_uri"]); got != want {
				t.Fatalf("message %q, want %q", got, want)
			}
		})
	}
}
