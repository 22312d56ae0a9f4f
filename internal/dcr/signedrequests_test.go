package dcr_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/storage"
)

// TestRegisterSignedRequestMetadata: request_object_signing_alg,
// require_pushed_authorization_requests and the JARM members (OIDC
// Registration §2, RFC 9126 §6, JARM §3) are stored and reported; a
// client asking for encrypted responses without a key to encrypt to, or
// for an algorithm not offered, is refused with invalid_client_metadata.
func TestRegisterSignedRequestMetadata(t *testing.T) {
	v := setup(t)
	tok := v.iatPolicy(20, storage.RegistrationPolicy{})
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set := func(keys ...jose.JSONWebKey) json.RawMessage {
		b, _ := json.Marshal(jose.JSONWebKeySet{Keys: keys})
		return b
	}
	encRSA := jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "enc", Use: "enc"}
	sigEC := jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "sig", Use: "sig"}
	base := func(extra map[string]any) map[string]any {
		b := map[string]any{"redirect_uris": []string{"https://app.example/cb"}, "token_endpoint_auth_method": "private_key_jwt"}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	status, b, _ := v.call("POST", reg, tok, base(map[string]any{
		"jwks": set(sigEC, encRSA), "request_object_signing_alg": "ES256", "require_pushed_authorization_requests": true,
		"authorization_encrypted_response_alg": "RSA-OAEP-256",
	}))
	if status != 201 || b["request_object_signing_alg"] != "ES256" || b["require_pushed_authorization_requests"] != true ||
		b["authorization_encrypted_response_alg"] != "RSA-OAEP-256" || b["authorization_encrypted_response_enc"] != "A128CBC-HS256" {
		t.Fatalf("register: %d %v", status, b)
	}
	bad := []struct {
		name, field string
		body        map[string]any
	}{
		{"encryption without keys", "authorization_encrypted_response_alg", map[string]any{
			"token_endpoint_auth_method": "client_secret_basic", "authorization_encrypted_response_alg": "RSA-OAEP-256"}},
		{"encryption to a key of the wrong type", "authorization_encrypted_response_alg", map[string]any{
			"jwks": set(sigEC), "authorization_encrypted_response_alg": "RSA-OAEP-256"}},
		{"RSA1_5", "authorization_encrypted_response_alg", map[string]any{
			"jwks": set(sigEC, encRSA), "authorization_encrypted_response_alg": "RSA1_5"}},
		{"enc without alg", "authorization_encrypted_response_enc", map[string]any{
			"jwks": set(sigEC), "authorization_encrypted_response_enc": "A128GCM"}},
		{"request objects signed with none", "request_object_signing_alg", map[string]any{
			"jwks": set(sigEC), "request_object_signing_alg": "none"}},
		{"request objects signed with HS256", "request_object_signing_alg", map[string]any{
			"jwks": set(sigEC), "request_object_signing_alg": "HS256"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			status, b, _ := v.call("POST", reg, tok, base(tc.body))
			desc, _ := b["error_description"].(string)
			if status != 400 || b["error"] != "invalid_client_metadata" || !strings.Contains(desc, tc.field+":") {
				t.Fatalf("want 400 invalid_client_metadata naming %s, got %d %v", tc.field, status, b)
			}
		})
	}
}

// TestUpdateReplacesEveryMember: RFC 7592 §2.2 — an update replaces the
// signed request (RFC 9126 §6, OIDC Registration §2) and logout channel
// (Back-Channel Logout §2.2, Front-Channel Logout §2) members like every
// other: new values are stored and returned, omitted ones cleared.
func TestUpdateReplacesEveryMember(t *testing.T) {
	v := setup(t)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ecKey.PublicKey, KeyID: "sig", Use: "sig"}}})
	md := map[string]any{"redirect_uris": []string{"https://app.example/cb"}, "token_endpoint_auth_method": "private_key_jwt",
		"jwks": json.RawMessage(set), "backchannel_logout_uri": "https://app.example/bc", "frontchannel_logout_uri": "https://app.example/fc"}
	status, b, _ := v.call("POST", reg, v.iat(1), md)
	if status != 201 || b["backchannel_logout_uri"] != "https://app.example/bc" {
		t.Fatalf("register: %d %v", status, b)
	}
	id, rat := b["client_id"].(string), b["registration_access_token"].(string)
	md["client_id"], md["backchannel_logout_uri"], md["backchannel_logout_session_required"] = id, "https://app.example/bc2", true
	md["request_object_signing_alg"], md["require_pushed_authorization_requests"] = "ES256", true
	delete(md, "frontchannel_logout_uri")
	status, b, _ = v.call("PUT", reg+"/"+id, rat, md)
	if status != 200 || b["backchannel_logout_uri"] != "https://app.example/bc2" || b["backchannel_logout_session_required"] != true ||
		b["frontchannel_logout_uri"] != nil || b["request_object_signing_alg"] != "ES256" || b["require_pushed_authorization_requests"] != true {
		t.Fatalf("update: %d %v", status, b)
	}
	rat = rotated(t, rat, b)
	status, b, _ = v.call("PUT", reg+"/"+id, rat, map[string]any{"client_id": id, "redirect_uris": []string{"https://app.example/cb"},
		"token_endpoint_auth_method": "private_key_jwt", "jwks": json.RawMessage(set)})
	if status != 200 || b["backchannel_logout_uri"] != nil || b["request_object_signing_alg"] != nil || b["require_pushed_authorization_requests"] != nil {
		t.Fatalf("update omitting the members: %d %v", status, b)
	}
}
