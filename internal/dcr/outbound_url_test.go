package dcr_test

import "testing"

// TestRegisterJWKSURIErrorNamesSetting: dynamic registration refuses a
// jwks_uri on a private address or over http (RFC 7591 §3.2.2
// invalid_client_metadata) with a description naming the server setting
// that would allow it (docs/security.md L1, L2).
func TestRegisterJWKSURIErrorNamesSetting(t *testing.T) {
	v := setup(t)
	tok := v.iat(0)
	for uri, want := range map[string]string{
		"https://192.168.1.1/jwks":     "jwks_uri: must be an https URL of a public host: URL points to a private, loopback or reserved address (allowed only when the server enables outbound.allow_private_addresses)",
		"http://keys.example.com/jwks": "jwks_uri: must be an https URL of a public host: URL must use https (http only when the server enables outbound.allow_http)",
	} {
		t.Run(uri, func(t *testing.T) {
			v.refused(t, "POST", reg, tok, map[string]any{
				"grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": uri,
			}, want)
		})
	}
}
