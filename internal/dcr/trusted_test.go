package dcr_test

import (
	"context"
	"testing"
)

// TestRegisteredClientsAreNeverTrusted is SECURITY.md Y11: a client that
// registered itself never skips the consent screen, whatever metadata it
// sends (Latchkey-specific members included), at registration or through
// its registration access token, and never chooses its own client_id.
func TestRegisteredClientsAreNeverTrusted(t *testing.T) {
	v := setup(t)
	meta := map[string]any{
		"client_id": "chosen-id", "redirect_uris": []string{"https://app.example/cb"},
		"trusted": true, "skip_consent": true, "latchkey.trusted": true,
	}
	status, body, _ := v.call("POST", reg, v.iat(1), meta)
	if status != 201 {
		t.Fatalf("register: %d %v", status, body)
	}
	id, _ := body["client_id"].(string)
	if id == "" || id == "chosen-id" {
		t.Fatalf("client_id %q: a registering client must not choose its own ID", id)
	}
	assertUntrusted := func(when string) {
		c, err := v.e.Service.GetClient(context.Background(), "default", id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Trusted {
			t.Fatalf("%s: the registered client is trusted and would skip consent", when)
		}
	}
	assertUntrusted("after registration")
	meta["client_id"] = id
	status, body, _ = v.call("PUT", reg+"/"+id, body["registration_access_token"].(string), meta)
	if status != 200 {
		t.Fatalf("update: %d %v", status, body)
	}
	assertUntrusted("after an RFC 7592 update")
}
