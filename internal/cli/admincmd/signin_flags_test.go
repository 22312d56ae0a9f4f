package admincmd_test

import (
	"encoding/json"
	"strings"
	"testing"
)

func getJSON(t *testing.T, out string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return m
}

// TestClientSignInSettingsCLI: every sign-in setting of a client can be
// set on create and changed on update, and an update of one refresh rule
// keeps the others.
func TestClientSignInSettingsCLI(t *testing.T) {
	srv := server(t)
	out := mustRun(t, srv, "-o", "json", "clients", "create", "--client-id", "web", "--name", "Web",
		"--grant-type", "authorization_code", "--grant-type", "refresh_token", "--redirect-uri", "https://app.example/cb",
		"--trusted", "--require-pkce", "--subject-type", "pairwise", "--post-logout-redirect-uri", "https://app.example/bye",
		"--id-token-alg", "ES256", "--policy-uri", "https://app.example/privacy", "--tos-uri", "https://app.example/terms",
		"--client-uri", "https://app.example", "--logo-uri", "https://app.example/logo.png",
		"--refresh-always", "--refresh-grace-period", "30s", "--refresh-idle-ttl", "720h", "--refresh-absolute-ttl", "2160h")
	c := getJSON(t, out)
	want := map[string]any{
		"trusted": true, "require_pkce": true, "subject_type": "pairwise", "id_token_signed_response_alg": "ES256",
		"policy_uri": "https://app.example/privacy", "tos_uri": "https://app.example/terms", "client_uri": "https://app.example",
		"logo_uri": "https://app.example/logo.png",
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("%s = %v, want %v", k, c[k], v)
		}
	}
	if uris, _ := c["post_logout_redirect_uris"].([]any); len(uris) != 1 || uris[0] != "https://app.example/bye" {
		t.Errorf("post_logout_redirect_uris = %v", c["post_logout_redirect_uris"])
	}
	rt, _ := c["refresh_tokens"].(map[string]any)
	if rt["always"] != true || rt["grace_period"] != 30.0 || rt["idle_ttl"] != 2592000.0 || rt["absolute_ttl"] != 7776000.0 {
		t.Fatalf("refresh_tokens = %v", c["refresh_tokens"])
	}

	out = mustRun(t, srv, "-o", "json", "clients", "update", "web", "--trusted=false", "--subject-type", "public",
		"--refresh-idle-ttl", "24h", "--policy-uri", "")
	c = getJSON(t, out)
	rt, _ = c["refresh_tokens"].(map[string]any)
	if c["trusted"] != false || c["subject_type"] != "public" || c["require_pkce"] != true || c["policy_uri"] != "" ||
		c["tos_uri"] != "https://app.example/terms" {
		t.Fatalf("update changed the wrong settings: %s", out)
	}
	if rt["idle_ttl"] != 86400.0 || rt["always"] != true || rt["grace_period"] != 30.0 || rt["absolute_ttl"] != 7776000.0 {
		t.Fatalf("refresh update lost the other rules: %v", rt)
	}
	contains(t, mustRun(t, srv, "clients", "get", "web"), "Trusted:", "Require PKCE:", "Subject type:", "public",
		"Logout URIs:", "https://app.example/bye", "ID token alg:", "ES256", "Terms URI:", "always=yes")

	// The server's field errors reach the user.
	_, err := run(t, srv, "clients", "update", "web", "--id-token-alg", "none")
	if err == nil || !strings.Contains(err.Error(), "id_token_signed_response_alg") {
		t.Fatalf("bad alg: %v", err)
	}
	_, err = run(t, srv, "clients", "update", "web", "--post-logout-redirect-uri", "javascript:alert(1)")
	if err == nil || !strings.Contains(err.Error(), "post_logout_redirect_uris") {
		t.Fatalf("bad logout uri: %v", err)
	}
}

// TestWorkspaceSettingsCLI: key rotation period, maximum assertion
// lifetime, strict assertion audience and enable/disable.
func TestWorkspaceSettingsCLI(t *testing.T) {
	srv := server(t)
	mustRun(t, srv, "workspaces", "create", "acme", "--name", "Acme", "--key-rotation-period", "720h")
	out := mustRun(t, srv, "-o", "json", "workspaces", "update", "acme", "--max-assertion-lifetime", "5m", "--strict-assertion-audience")
	s, _ := getJSON(t, out)["settings"].(map[string]any)
	if s["key_rotation_period"] != 2592000.0 || s["max_assertion_lifetime"] != 300.0 || s["strict_assertion_audience"] != true {
		t.Fatalf("settings = %v", s)
	}
	contains(t, mustRun(t, srv, "workspaces", "get", "acme"), "Key rotation:", "720h0m0s", "Max assertion lifetime:", "5m0s",
		"Strict assertion aud:", "yes")
	contains(t, mustRun(t, srv, "workspaces", "update", "acme", "--strict-assertion-audience=false"), "Strict assertion aud:", "no")
	contains(t, mustRun(t, srv, "workspaces", "disable", "acme"), "Enabled:", "no")
	if e := getJSON(t, mustRun(t, srv, "-o", "json", "workspaces", "get", "acme"))["enabled"]; e != false {
		t.Fatalf("disabled workspace enabled = %v", e)
	}
	contains(t, mustRun(t, srv, "workspaces", "enable", "acme"), "Enabled:", "yes")
	if _, err := run(t, srv, "workspaces", "update", "acme", "--key-rotation-period", "1s"); err == nil {
		t.Fatal("a 1s rotation period was accepted")
	}
}

// TestServiceAndProfileUpdateCLI: services and profiles change from the
// CLI, only the flags given.
func TestServiceAndProfileUpdateCLI(t *testing.T) {
	srv := server(t)
	mustRun(t, srv, "services", "create", "--id", "api", "--name", "API", "--identifier", "https://api.example", "--scope", "read=Read")
	out := mustRun(t, srv, "services", "update", "api", "--name", "Orders API", "--scope", "read=Read orders", "--scope", "write=Write orders")
	contains(t, out, "Orders API", "https://api.example", "Read orders", "write")
	contains(t, mustRun(t, srv, "services", "update", "api", "--identifier", "https://orders.example"), "Orders API", "https://orders.example")
	if _, err := run(t, srv, "services", "update", "api"); err == nil || !strings.Contains(err.Error(), "nothing to change") {
		t.Fatalf("empty update: %v", err)
	}
	if _, err := run(t, srv, "services", "update", "api", "--scope", "=x"); err == nil {
		t.Fatal("bad scope accepted")
	}

	mustRun(t, srv, "profiles", "create", "--id", "staff", "--name", "Staff")
	contains(t, mustRun(t, srv, "profiles", "update", "staff", "--description", "Employees"), "Staff", "Employees")
	contains(t, mustRun(t, srv, "profiles", "update", "staff", "--name", "Employees"), "Employees")
	if _, err := run(t, srv, "profiles", "update", "staff"); err == nil || !strings.Contains(err.Error(), "nothing to change") {
		t.Fatalf("empty update: %v", err)
	}
	if _, err := run(t, srv, "profiles", "update", "nope", "--name", "x"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing profile: %v", err)
	}
}
