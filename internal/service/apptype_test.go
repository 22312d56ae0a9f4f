package service_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

func boolPtr(b bool) *bool { return &b }

// TestApplicationTypeRules: each application type's rules, one table row
// per rule, every error naming the field to change.
func TestApplicationTypeRules(t *testing.T) {
	env, ctx := newEnv(t)
	code := []string{"authorization_code"}
	cases := []struct {
		name  string
		in    service.ClientInput
		field string // "" = accepted
		want  string
	}{
		{"unknown type", service.ClientInput{ApplicationType: "desktop"}, "application_type", "must be one of web, native, spa, service"},
		// web
		{"web confidential", service.ClientInput{ApplicationType: "web", RedirectURIs: []string{"https://app.example/cb"}}, "", ""},
		{"web public via auth method none", service.ClientInput{ApplicationType: "web", TokenEndpointAuthMethod: "none",
			RedirectURIs: []string{"https://app.example/cb"}}, "", ""},
		{"web loopback http", service.ClientInput{ApplicationType: "web", RedirectURIs: []string{"http://127.0.0.1:8080/cb"}}, "", ""},
		{"web private-use scheme", service.ClientInput{ApplicationType: "web", TokenEndpointAuthMethod: "none",
			RedirectURIs: []string{"com.example.app:/cb"}}, "redirect_uris[0]", "only for native applications"},
		{"web plain http", service.ClientInput{ApplicationType: "web", RedirectURIs: []string{"http://app.example/cb"}}, "redirect_uris[0]", "must use https"},
		// native (RFC 8252)
		{"native private-use scheme", service.ClientInput{ApplicationType: "native", RedirectURIs: []string{"com.example.app:/cb"}}, "", ""},
		{"native loopback ipv4 any port", service.ClientInput{ApplicationType: "native", RedirectURIs: []string{"http://127.0.0.1/cb"}}, "", ""},
		{"native loopback ipv6", service.ClientInput{ApplicationType: "native", RedirectURIs: []string{"http://[::1]:51000/cb"}}, "", ""},
		{"native claimed https", service.ClientInput{ApplicationType: "native", RedirectURIs: []string{"https://app.example/native-cb"}}, "", ""},
		{"native confidential", service.ClientInput{ApplicationType: "native", Type: "confidential",
			RedirectURIs: []string{"com.example.app:/cb"}}, "type", "native applications are public clients"},
		{"native scheme without dot", service.ClientInput{ApplicationType: "native", RedirectURIs: []string{"myapp:/cb"}}, "redirect_uris[0]", "must use https"},
		{"native plain http host", service.ClientInput{ApplicationType: "native", RedirectURIs: []string{"http://app.example/cb"}}, "redirect_uris[0]", "must use https"},
		// spa
		{"spa", service.ClientInput{ApplicationType: "spa", RedirectURIs: []string{"https://app.example/cb"}}, "", ""},
		{"spa confidential", service.ClientInput{ApplicationType: "spa", Type: "confidential",
			RedirectURIs: []string{"https://app.example/cb"}}, "type", "spa applications are public clients"},
		{"spa pkce off", service.ClientInput{ApplicationType: "spa", RedirectURIs: []string{"https://app.example/cb"},
			Presentation: service.Presentation{RequirePKCE: boolPtr(false)}}, "require_pkce", "cannot be false for a public client"},
		{"spa private-use scheme", service.ClientInput{ApplicationType: "spa", RedirectURIs: []string{"com.example.app:/cb"}}, "redirect_uris[0]", "only for native"},
		// service
		{"service", service.ClientInput{ApplicationType: "service"}, "", ""},
		{"service redirect", service.ClientInput{ApplicationType: "service", RedirectURIs: []string{"https://app.example/cb"}},
			"redirect_uris", "must be empty for a service application"},
		{"service code grant", service.ClientInput{ApplicationType: "service", GrantTypes: code,
			RedirectURIs: []string{"https://app.example/cb"}}, "grant_types[0]", "not allowed for a service application"},
		{"service jwt bearer", service.ClientInput{ApplicationType: "service", GrantTypes: []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"}},
			"grant_types[0]", "issues tokens for users"},
		{"service public", service.ClientInput{ApplicationType: "service", Type: "public", GrantTypes: code,
			RedirectURIs: []string{"https://app.example/cb"}}, "type", "service applications are confidential"},
		// PKCE for every public client, typed or not
		{"legacy public pkce off", service.ClientInput{Type: "public", RedirectURIs: []string{"https://app.example/cb"},
			Presentation: service.Presentation{RequirePKCE: boolPtr(false)}}, "require_pkce", "cannot be false for a public client"},
		{"confidential pkce off", service.ClientInput{ApplicationType: "web", RedirectURIs: []string{"https://app.example/cb"},
			Presentation: service.Presentation{RequirePKCE: boolPtr(false)}}, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Name = "app"
			c, err := env.Service.CreateClient(ctx, "default", tc.in)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				if c.ApplicationType != tc.in.ApplicationType {
					t.Fatalf("stored application_type %q, want %q", c.ApplicationType, tc.in.ApplicationType)
				}
				return
			}
			fe := fieldErrors(t, err)
			if !strings.Contains(fe[tc.field], tc.want) {
				t.Fatalf("want %q on %s, got %v", tc.want, tc.field, fe)
			}
		})
	}
}

// TestApplicationTypeDefaults: an explicit type brings its client type
// and grant defaults.
func TestApplicationTypeDefaults(t *testing.T) {
	env, ctx := newEnv(t)
	cases := []struct {
		appType, typ, method, grant string
		redirects                   []string
	}{
		{"web", "confidential", "client_secret_basic", "authorization_code", []string{"https://app.example/cb"}},
		{"native", "public", "none", "authorization_code", []string{"com.example.app:/cb"}},
		{"spa", "public", "none", "authorization_code", []string{"https://app.example/cb"}},
		{"service", "confidential", "client_secret_basic", "client_credentials", nil},
	}
	for _, tc := range cases {
		c, err := env.Service.CreateClient(ctx, "default", service.ClientInput{Name: "n", ApplicationType: tc.appType, RedirectURIs: tc.redirects})
		if err != nil {
			t.Fatalf("%s: %v", tc.appType, err)
		}
		if c.Type != tc.typ || c.TokenEndpointAuthMethod != tc.method || len(c.GrantTypes) != 1 || c.GrantTypes[0] != tc.grant {
			t.Errorf("%s: type %s, method %s, grants %v", tc.appType, c.Type, c.TokenEndpointAuthMethod, c.GrantTypes)
		}
		if got := service.EffectiveApplicationType(c.Client); got != tc.appType {
			t.Errorf("%s: effective %s", tc.appType, got)
		}
	}
}

// TestLegacyClientsKeepWorking: clients stored before application types
// get an inferred type, stay editable (also a public client stored with
// require_pkce false, which was ignored), and refuse require_pkce false
// when it is sent again.
func TestLegacyClientsKeepWorking(t *testing.T) {
	env, ctx := newEnv(t)
	off := false
	legacy := []storage.Client{
		{WorkspaceID: "default", ID: "legacy-machine", Name: "m", Enabled: true, Type: "confidential",
			GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: "client_secret_basic"},
		{WorkspaceID: "default", ID: "legacy-native", Name: "n", Enabled: true, Type: "public", RequirePKCE: &off,
			GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
			RedirectURIs: []string{"com.example.app:/cb"}, TokenEndpointAuthMethod: "none"},
	}
	want := map[string]string{"legacy-machine": "service", "legacy-native": "native"}
	for _, c := range legacy {
		if err := env.Store.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := env.Service.GetClient(ctx, "default", c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if at := service.EffectiveApplicationType(got); at != want[c.ID] {
			t.Errorf("%s: inferred %s, want %s", c.ID, at, want[c.ID])
		}
		name := "renamed"
		u, err := env.Service.UpdateClient(ctx, "default", c.ID, service.ClientPatch{Name: &name})
		if err != nil {
			t.Fatalf("%s: unrelated update refused: %v", c.ID, err)
		}
		if u.ApplicationType != "" || !u.PKCERequired() || (c.Type == "public" && u.RequirePKCE != nil) {
			t.Errorf("%s: stored type %q, pkce required %v", c.ID, u.ApplicationType, u.PKCERequired())
		}
	}
	// The machine client gains the code flow: re-inferred as web.
	grants, redirects := []string{"client_credentials", "authorization_code"}, []string{"https://app.example/cb"}
	u, err := env.Service.UpdateClient(ctx, "default", "legacy-machine", service.ClientPatch{GrantTypes: &grants, RedirectURIs: &redirects})
	if err != nil || service.EffectiveApplicationType(u.Client) != "web" {
		t.Fatalf("machine → web: %v %v", err, u.ApplicationType)
	}
	// Explicitly sent require_pkce false on a public client is refused.
	_, err = env.Service.UpdateClient(ctx, "default", "legacy-native", service.ClientPatch{PresentationPatch: service.PresentationPatch{RequirePKCE: &off}})
	if !strings.Contains(fieldErrors(t, err)["require_pkce"], "cannot be false") {
		t.Fatalf("want require_pkce error, got %v", err)
	}
	// Setting a type stores it; the service rules then apply.
	svc := "service"
	if _, err := env.Service.UpdateClient(ctx, "default", "legacy-machine", service.ClientPatch{ApplicationType: &svc}); err == nil {
		t.Fatal("service type with the code flow must be refused")
	}
	web := "web"
	if u, err := env.Service.UpdateClient(ctx, "default", "legacy-machine", service.ClientPatch{ApplicationType: &web}); err != nil || u.ApplicationType != "web" {
		t.Fatalf("set web: %v %q", err, u.ApplicationType)
	}
}
