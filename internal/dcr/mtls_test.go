package dcr_test

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey/internal/dcr"
	"github.com/latchkey/latchkey/internal/discovery"
)

// withMTLS configures the handler as the server does when client
// certificates reach it (tls.* or a trusted proxy): the value discovery
// gets.
func withMTLS(h *dcr.Handler) { h.MTLS = &discovery.MTLS{} }

// TestRegisterMTLSClient: the RFC 8705 client metadata (§2.1.2, §3.4)
// through dynamic registration, its read-back (RFC 7592), the "exactly
// one subject" rule as invalid_client_metadata, and a full replacement
// clearing the members it omits.
func TestRegisterMTLSClient(t *testing.T) {
	v := setup(t, withMTLS)
	status, body, _ := v.call("POST", reg, v.iat(3), map[string]any{
		"client_name": "mTLS", "grant_types": []string{"client_credentials"}, "scope": "read",
		"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_san_dns": "svc.example",
		"tls_client_certificate_bound_access_tokens": true,
	})
	if status != 201 || body["tls_client_auth_san_dns"] != "svc.example" || body["tls_client_certificate_bound_access_tokens"] != true ||
		body["client_secret"] != nil {
		t.Fatalf("register: %d %v", status, body)
	}
	id, rat := body["client_id"].(string), body["registration_access_token"].(string)
	c, err := v.e.Service.GetClient(context.Background(), "default", id)
	if err != nil || c.TLSClientAuthSANDNS != "svc.example" || !c.TLSClientCertificateBoundAccessTokens || len(c.SecretCiphertext) != 0 {
		t.Fatalf("stored: %+v %v", c, err)
	}
	for name, md := range map[string]map[string]any{
		"no subject":                   {"token_endpoint_auth_method": "tls_client_auth"},
		"two subjects":                 {"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_san_dns": "a.example", "tls_client_auth_subject_dn": "CN=a"},
		"subject with a secret method": {"token_endpoint_auth_method": "client_secret_basic", "tls_client_auth_subject_dn": "CN=a"},
	} {
		md["grant_types"] = []string{"client_credentials"}
		status, body, _ := v.call("POST", reg, v.iat(1), md)
		if status != 400 || body["error"] != "invalid_client_metadata" {
			t.Errorf("%s: %d %v", name, status, body)
		}
	}
	status, body, _ = v.call("PUT", reg+"/"+id, rat, map[string]any{"client_id": id, "grant_types": []string{"client_credentials"},
		"scope": "read", "token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": "CN=svc,O=Example"})
	if status != 200 || body["tls_client_auth_subject_dn"] != "CN=svc,O=Example" || body["tls_client_auth_san_dns"] != nil ||
		body["tls_client_certificate_bound_access_tokens"] != nil {
		t.Fatalf("replace: %d %v", status, body)
	}
}

// TestMTLSRefusedWithoutMutualTLS: RFC 7591 §3.2.2 and RFC 8414 §2 — a
// server that receives no client certificates does not advertise the
// RFC 8705 methods or certificate-bound tokens in discovery, and
// registration and RFC 7592 update refuse them with
// invalid_client_metadata naming the member; the other methods register.
func TestMTLSRefusedWithoutMutualTLS(t *testing.T) {
	v := setup(t)
	const (
		noMethod = "is not offered by this server: it does not receive TLS client certificates " +
			"(see token_endpoint_auth_methods_supported in its discovery document)"
		noBinding = "tls_client_certificate_bound_access_tokens: cannot be true: this server does not receive TLS client certificates (RFC 8705 section 3.4)"
	)
	jwks := map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256",
		"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}}
	cases := []struct {
		name string
		md   map[string]any
		desc string
	}{
		{"tls_client_auth", map[string]any{"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_san_dns": "svc.example"},
			"token_endpoint_auth_method: tls_client_auth " + noMethod},
		{"self_signed_tls_client_auth", map[string]any{"token_endpoint_auth_method": "self_signed_tls_client_auth", "jwks": jwks},
			"token_endpoint_auth_method: self_signed_tls_client_auth " + noMethod},
		{"certificate-bound tokens", map[string]any{"tls_client_certificate_bound_access_tokens": true}, noBinding},
	}
	tok := v.iat(0)
	_, ok, _ := v.call("POST", reg, tok, map[string]any{"grant_types": []string{"client_credentials"}, "scope": "read"})
	id, rat := ok["client_id"].(string), ok["registration_access_token"].(string)
	for _, tc := range cases {
		tc.md["grant_types"], tc.md["scope"] = []string{"client_credentials"}, "read"
		t.Run("register "+tc.name, func(t *testing.T) { v.refused(t, "POST", reg, tok, tc.md, tc.desc) })
		t.Run("update "+tc.name, func(t *testing.T) {
			tc.md["client_id"] = id
			v.refused(t, "PUT", reg+"/"+id, rat, tc.md, tc.desc)
		})
	}
	// The refused updates left the client and its token as they were.
	if status, body, _ := v.call("GET", reg+"/"+id, rat, nil); status != 200 || body["token_endpoint_auth_method"] != "client_secret_basic" {
		t.Fatalf("read after refused updates: %d %v", status, body)
	}
}
