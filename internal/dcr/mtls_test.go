package dcr_test

import (
	"context"
	"testing"
)

// TestRegisterMTLSClient: the RFC 8705 client metadata (§2.1.2, §3.4)
// through dynamic registration, its read-back (RFC 7592), the "exactly
// one subject" rule as invalid_client_metadata, and a full replacement
// clearing the members it omits.
func TestRegisterMTLSClient(t *testing.T) {
	v := setup(t)
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
