package adminapi_test

import (
	"context"
	"testing"
)

func branding(t *testing.T, r resp) map[string]any {
	t.Helper()
	st, _ := r.body["settings"].(map[string]any)
	b, ok := st["branding"].(map[string]any)
	if !ok {
		t.Fatalf("no settings.branding object in %s", r.raw)
	}
	return b
}

func wantBranding(t *testing.T, r resp, want map[string]string) {
	t.Helper()
	b := branding(t, r)
	if len(b) != len(want) {
		t.Fatalf("branding members = %v, want %v", b, want)
	}
	for k, v := range want {
		if b[k] != v {
			t.Fatalf("branding.%s = %v, want %q (%s)", k, b[k], v, r.raw)
		}
	}
}

// TestWorkspaceBrandingRoundTrip sets branding on create, merges member
// patches, clears members and reads it back from the store.
func TestWorkspaceBrandingRoundTrip(t *testing.T) {
	a := newAPI(t)
	empty := map[string]string{"display_name": "", "logo_uri": "", "primary_color": "", "background_color": ""}
	wantBranding(t, a.want(a.do("GET", ws, nil), 200), empty)

	r := a.want(a.do("POST", "/admin/v1/workspaces", map[string]any{
		"id": "acme", "name": "Acme", "settings": map[string]any{"branding": map[string]any{
			"display_name": "Acme Corp", "logo_uri": "https://cdn.example/logo.svg", "primary_color": "#0A5",
		}},
	}), 201)
	full := map[string]string{"display_name": "Acme Corp", "logo_uri": "https://cdn.example/logo.svg",
		"primary_color": "#00aa55", "background_color": ""}
	wantBranding(t, r, full)
	wantBranding(t, a.want(a.do("GET", "/admin/v1/workspaces/acme", nil), 200), full)

	// PATCH merges: only the members given change.
	r = a.want(a.do("PATCH", "/admin/v1/workspaces/acme",
		`{"settings":{"branding":{"background_color":"#FFFFFF"}}}`), 200)
	full["background_color"] = "#ffffff"
	wantBranding(t, r, full)

	// Patching other settings leaves branding alone.
	r = a.want(a.do("PATCH", "/admin/v1/workspaces/acme", `{"settings":{"access_token_ttl":600}}`), 200)
	wantBranding(t, r, full)

	// "" clears a member.
	r = a.want(a.do("PATCH", "/admin/v1/workspaces/acme", `{"settings":{"branding":{"logo_uri":""}}}`), 200)
	full["logo_uri"] = ""
	wantBranding(t, r, full)

	w, err := a.env.Store.GetWorkspace(context.Background(), "acme")
	if err != nil || w.Settings.Branding == nil || w.Settings.Branding.DisplayName != "Acme Corp" ||
		w.Settings.Branding.BackgroundColor != "#ffffff" || w.Settings.Branding.LogoURI != "" {
		t.Fatalf("stored branding: %+v %v", w.Settings.Branding, err)
	}
}

// TestWorkspaceBrandingRefused: every bad member is reported with its
// field name, nothing is stored (K10: colours are CSS, logos are images).
func TestWorkspaceBrandingRefused(t *testing.T) {
	a := newAPI(t)
	r := a.want(a.do("PATCH", ws, map[string]any{"settings": map[string]any{"branding": map[string]any{
		"display_name": "a\u0001b", "logo_uri": "javascript:alert(1)",
		"primary_color": "red;}body{display:none", "background_color": "url(https://evil.example/x.png)",
	}}}), 400)
	got := map[string]bool{}
	for _, e := range r.body["errors"].([]any) {
		got[e.(map[string]any)["field"].(string)] = true
	}
	for _, f := range []string{"settings.branding.display_name", "settings.branding.logo_uri",
		"settings.branding.primary_color", "settings.branding.background_color"} {
		if !got[f] {
			t.Errorf("no error for %s: %s", f, r.raw)
		}
	}
	a.want(a.do("POST", "/admin/v1/workspaces", `{"id":"x","name":"X","settings":{"branding":{"primary_color":"#fff;"}}}`), 400)
	a.want(a.do("PATCH", ws, `{"settings":{"branding":{"font":"Comic Sans"}}}`), 400) // unknown member
	a.want(a.do("PATCH", ws, `{"settings":{"branding":{"primary_color":7}}}`), 400)   // wrong type
	wantBranding(t, a.want(a.do("GET", ws, nil), 200),
		map[string]string{"display_name": "", "logo_uri": "", "primary_color": "", "background_color": ""})
}
