package dcr_test

import (
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
)

const grantCIBA = "urn:openid:params:grant-type:ciba"

// TestRegisterCIBAGrant: the CIBA grant issues a user's tokens, so
// dynamic registration gets it only with an initial access token whose
// policy lists it (the default policy refuses it); the CIBA metadata of
// CIBA Core §4 is validated and returned.
func TestRegisterCIBAGrant(t *testing.T) {
	v := setup(t)
	body := map[string]any{"client_name": "Call centre", "grant_types": []string{grantCIBA}, "scope": "read",
		"token_endpoint_auth_method": "client_secret_basic", "backchannel_token_delivery_mode": "poll"}
	status, out, _ := v.call("POST", reg, v.iat(1), body)
	if status != 400 || out["error"] != "invalid_client_metadata" {
		t.Fatalf("CIBA grant with the default policy: %d %v", status, out)
	}
	allowed := v.iatPolicy(1, storage.RegistrationPolicy{GrantTypes: []string{grantCIBA}, AuthMethods: []string{"client_secret_basic"}})
	status, out, _ = v.call("POST", reg, allowed, body)
	if status != 201 || out["backchannel_token_delivery_mode"] != "poll" {
		t.Fatalf("CIBA grant with a policy listing it: %d %v", status, out)
	}
	body["backchannel_token_delivery_mode"] = "push"
	allowed = v.iatPolicy(1, storage.RegistrationPolicy{GrantTypes: []string{grantCIBA}, AuthMethods: []string{"client_secret_basic"}})
	status, out, _ = v.call("POST", reg, allowed, body)
	if status != 400 || out["error"] != "invalid_client_metadata" {
		t.Fatalf("push mode: %d %v", status, out)
	}
}
