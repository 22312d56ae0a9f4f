package dcr_test

import (
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
)

const grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// TestRegisterDeviceGrant: the device authorization grant (RFC 8628)
// issues a user's tokens, so dynamic registration gets it only with an
// initial access token whose policy lists it; the default policy refuses
// it (safe default: no client has the grant unless someone allowed it).
func TestRegisterDeviceGrant(t *testing.T) {
	v := setup(t)
	body := map[string]any{"client_name": "TV", "grant_types": []string{grantDeviceCode}, "token_endpoint_auth_method": "none", "scope": "read"}
	status, out, _ := v.call("POST", reg, v.iat(1), body)
	if status != 400 || out["error"] != "invalid_client_metadata" {
		t.Fatalf("device grant with the default policy: %d %v", status, out)
	}
	allowed := v.iatPolicy(1, storage.RegistrationPolicy{GrantTypes: []string{grantDeviceCode}, AuthMethods: []string{"none"}})
	status, out, _ = v.call("POST", reg, allowed, body)
	if status != 201 {
		t.Fatalf("device grant with a policy listing it: %d %v", status, out)
	}
	if gts, _ := out["grant_types"].([]any); len(gts) != 1 || gts[0] != grantDeviceCode {
		t.Fatalf("registered grant_types %v", out["grant_types"])
	}
}
