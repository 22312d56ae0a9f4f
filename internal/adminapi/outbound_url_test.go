package adminapi_test

import "testing"

// TestJWKSURIErrorNamesSetting: a jwks_uri the server may not fetch is a
// 400 whose description names the server setting that would allow it
// (docs/security.md L1, L2), for clients and trusted issuers alike.
func TestJWKSURIErrorNamesSetting(t *testing.T) {
	a := newAPI(t)
	const (
		private = "jwks_uri: must be an https URL of a public host: URL points to a private, loopback or reserved address (allowed only when the server enables outbound.allow_private_addresses)"
		plain   = "jwks_uri: must be an https URL of a public host: URL must use https (http only when the server enables outbound.allow_http)"
	)
	cases := []struct{ path, uri, want string }{
		{ws + "/clients", "https://10.0.0.1/jwks", private},
		{ws + "/clients", "https://localhost/jwks", private},
		{ws + "/clients", "http://keys.example.com/jwks", plain},
		{ws + "/trusted-issuers", "https://169.254.169.254/jwks", private},
		{ws + "/trusted-issuers", "http://keys.example.com/jwks", plain},
	}
	for _, tc := range cases {
		t.Run(tc.path+" "+tc.uri, func(t *testing.T) {
			body := map[string]any{"name": "remote keys", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": tc.uri}
			if tc.path != ws+"/clients" {
				body = map[string]any{"name": "IdP", "issuer": "https://idp.example.com", "jwks_uri": tc.uri, "claim": "sub"}
			}
			r := a.want(a.do("POST", tc.path, body), 400)
			if r.body["error"] != "invalid_request" || r.body["error_description"] != "invalid input: "+tc.want {
				t.Fatalf("got %s\nwant error_description %q", r.raw, "invalid input: "+tc.want)
			}
			errs := r.body["errors"].([]any)
			if m := errs[0].(map[string]any); len(errs) != 1 || m["field"] != "jwks_uri" || m["message"] != tc.want {
				t.Fatalf("errors %v", errs)
			}
		})
	}
}
