package dcr_test

import (
	"context"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
)

// TestRegisterApplicationTypes: OpenID Connect Registration §2
// application_type (default web), Latchkey's spa and service, the rules
// of each, and access_token_format, all through the registration
// endpoint, and kept on read and RFC 7592 update.
func TestRegisterApplicationTypes(t *testing.T) {
	v := setup(t)
	tok := v.iatPolicy(20, storage.RegistrationPolicy{})
	cases := []struct {
		name                   string
		body                   map[string]any
		appType, method, grant string
	}{
		{"default web", map[string]any{"redirect_uris": []string{"https://app.example/cb"}}, "web", "client_secret_basic", "authorization_code"},
		{"native public by default", map[string]any{"application_type": "native", "redirect_uris": []string{"com.example.app:/cb", "http://127.0.0.1/cb"}},
			"native", "none", "authorization_code"},
		{"spa", map[string]any{"application_type": "spa", "redirect_uris": []string{"https://app.example/spa"}}, "spa", "none", "authorization_code"},
		{"service", map[string]any{"application_type": "service", "grant_types": []string{"client_credentials"}}, "service", "client_secret_basic", "client_credentials"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, b, _ := v.call("POST", reg, tok, tc.body)
			if status != 201 {
				t.Fatalf("register: %d %v", status, b)
			}
			if b["application_type"] != tc.appType || b["token_endpoint_auth_method"] != tc.method || b["access_token_format"] != "jwt" {
				t.Fatalf("got %v", b)
			}
			c, err := v.e.Service.GetClient(context.Background(), "default", b["client_id"].(string))
			if err != nil || c.ApplicationType != tc.appType || len(c.GrantTypes) != 1 || c.GrantTypes[0] != tc.grant {
				t.Fatalf("stored: %v %q %v", err, c.ApplicationType, c.GrantTypes)
			}
		})
	}
	bad := []struct {
		name, field, code string
		body              map[string]any
	}{
		{"unknown type", "application_type", "invalid_client_metadata", map[string]any{"application_type": "desktop",
			"redirect_uris": []string{"https://app.example/cb"}}},
		{"web with private-use scheme", "redirect_uris[0]", "invalid_redirect_uri", map[string]any{"token_endpoint_auth_method": "none",
			"redirect_uris": []string{"com.example.app:/cb"}}},
		{"native with a secret", "token_endpoint_auth_method", "invalid_client_metadata", map[string]any{"application_type": "native",
			"token_endpoint_auth_method": "client_secret_basic", "redirect_uris": []string{"http://127.0.0.1/cb"}}},
		{"service with redirect", "redirect_uris", "invalid_redirect_uri", map[string]any{"application_type": "service",
			"grant_types": []string{"client_credentials"}, "redirect_uris": []string{"https://app.example/cb"}}},
		{"bad token format", "access_token_format", "invalid_client_metadata", map[string]any{"access_token_format": "paseto",
			"grant_types": []string{"client_credentials"}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			status, b, _ := v.call("POST", reg, tok, tc.body)
			desc, _ := b["error_description"].(string)
			if status != 400 || b["error"] != tc.code || !strings.Contains(desc, tc.field+":") {
				t.Fatalf("want 400 %s naming %s, got %d %v", tc.code, tc.field, status, b)
			}
		})
	}
	// access_token_format opaque is stored, reported, and replaced by an
	// RFC 7592 update that omits it (the default, jwt).
	status, b, _ := v.call("POST", reg, tok, map[string]any{"access_token_format": "opaque", "grant_types": []string{"client_credentials"}})
	if status != 201 || b["access_token_format"] != "opaque" || b["application_type"] != "web" {
		t.Fatalf("opaque: %d %v", status, b)
	}
	id, rat := b["client_id"].(string), b["registration_access_token"].(string)
	if c, _ := v.e.Service.GetClient(context.Background(), "default", id); c.AccessTokenFormat != storage.AccessTokenOpaque {
		t.Fatalf("stored format %q", c.AccessTokenFormat)
	}
	status, b, _ = v.call("PUT", reg+"/"+id, rat, map[string]any{"client_id": id, "grant_types": []string{"client_credentials"},
		"application_type": "service"})
	if status != 200 || b["access_token_format"] != "jwt" || b["application_type"] != "service" {
		t.Fatalf("update: %d %v", status, b)
	}
}
