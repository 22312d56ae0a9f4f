package discovery_test

import (
	"context"
	"slices"
	"testing"

	"github.com/latchkey/latchkey/internal/discovery"
	"github.com/latchkey/latchkey/internal/oauth2"
)

// TestMTLSMetadata: RFC 8705 §3.3 and §5. mtls_endpoint_aliases come from
// the configured mTLS base URL only (never a request header), keep the
// issuer, and cover every endpoint that authenticates clients or takes
// bound tokens; a proxy-only setup advertises the methods without aliases.
func TestMTLSMetadata(t *testing.T) {
	f := newFixture(t)
	ws, err := f.env.Store.GetWorkspace(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	f.h.MTLS = &discovery.MTLS{BaseURL: "https://mtls.example.com"}
	md, err := f.h.Build(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	if !md.TLSClientCertificateBoundAccessTokens || !slices.Contains(md.TokenEndpointAuthMethodsSupported, oauth2.AuthTLSClient) ||
		!slices.Contains(md.IntrospectionEndpointAuthMethodsSupported, oauth2.AuthSelfSignedTLSClient) {
		t.Fatalf("mTLS not advertised: %+v", md.MTLSMetadata)
	}
	want := map[string]string{
		"token_endpoint":                        "https://mtls.example.com/w/acme/oauth2/token",
		"introspection_endpoint":                "https://mtls.example.com/w/acme/oauth2/introspect",
		"revocation_endpoint":                   "https://mtls.example.com/w/acme/oauth2/revoke",
		"userinfo_endpoint":                     "https://mtls.example.com/w/acme/oauth2/userinfo",
		"device_authorization_endpoint":         "https://mtls.example.com/w/acme/oauth2/device_authorization",
		"pushed_authorization_request_endpoint": "https://mtls.example.com/w/acme/oauth2/par",
	}
	for k, v := range want {
		if md.MTLSEndpointAliases[k] != v {
			t.Errorf("alias %s = %q, want %q", k, md.MTLSEndpointAliases[k], v)
		}
	}
	if md.Issuer == "" || md.Issuer == "https://mtls.example.com/w/acme" {
		t.Errorf("issuer changed: %q", md.Issuer)
	}
	f.h.MTLS = &discovery.MTLS{}
	md, err = f.h.Build(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	if !md.TLSClientCertificateBoundAccessTokens || md.MTLSEndpointAliases != nil {
		t.Fatalf("proxy-only: %+v", md.MTLSMetadata)
	}
}
