package admincmd_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestWorkspaceBrandingFlags(t *testing.T) {
	srv := server(t)
	out := mustRun(t, srv, "workspaces", "update", "default", "--brand-name", "Acme Sign-in",
		"--brand-logo", "https://cdn.example/logo.svg", "--brand-primary-color", "#0A5", "--brand-background-color", "#ffffff")
	contains(t, out, "Brand name:", "Acme Sign-in", "https://cdn.example/logo.svg", "#00aa55", "#ffffff")

	// Only the flags given are sent: the other members stay.
	mustRun(t, srv, "workspaces", "update", "default", "--brand-primary-color", "#123456")
	contains(t, mustRun(t, srv, "workspaces", "get", "default"), "Acme Sign-in", "https://cdn.example/logo.svg", "#123456", "#ffffff")

	// An empty value clears a member; get prints "-" for it.
	mustRun(t, srv, "workspaces", "update", "default", "--brand-logo", "")
	raw := mustRun(t, srv, "-o", "json", "workspaces", "get", "default")
	var ws struct {
		Settings struct {
			Branding map[string]string `json:"branding"`
		} `json:"settings"`
	}
	if err := json.Unmarshal([]byte(raw), &ws); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"display_name": "Acme Sign-in", "logo_uri": "", "primary_color": "#123456", "background_color": "#ffffff"}
	for k, v := range want {
		if ws.Settings.Branding[k] != v {
			t.Fatalf("branding %s = %q, want %q (%s)", k, ws.Settings.Branding[k], v, raw)
		}
	}
	if get := mustRun(t, srv, "workspaces", "get", "default"); !regexp.MustCompile(`Brand logo:\s+-\n`).MatchString(get) {
		t.Errorf("a cleared logo prints as -:\n%s", get)
	}

	// Creating with branding works too.
	contains(t, mustRun(t, srv, "workspaces", "create", "acme", "--name", "Acme", "--brand-name", "Acme Portal"), "Acme Portal")
}

// K10: the server refuses CSS injection through a colour and the CLI
// prints the field-named error.
func TestWorkspaceBrandingRefused(t *testing.T) {
	srv := server(t)
	out, err := run(t, srv, "workspaces", "update", "default", "--brand-primary-color", "red;}body{display:none",
		"--brand-logo", "javascript:alert(1)")
	if err == nil {
		t.Fatalf("want an error, got output %s", out)
	}
	msg := out + err.Error()
	for _, f := range []string{"settings.branding.primary_color", "settings.branding.logo_uri"} {
		if !strings.Contains(msg, f) {
			t.Errorf("error lacks %s: %s", f, msg)
		}
	}
}
