package service_test

import (
	"context"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/service/servicetest"
	"github.com/latchkey/latchkey/internal/storage"
)

func strPtr(s string) *string { return &s }

// TestBrandingValidation is the table of refused branding values. The
// colour rows are SECURITY.md K10: colours end up in the theme
// stylesheet, so anything but #rgb / #rrggbb would be CSS injection.
func TestBrandingValidation(t *testing.T) {
	env, ctx := newEnv(t)
	const (
		fName  = "settings.branding.display_name"
		fLogo  = "settings.branding.logo_uri"
		fPrim  = "settings.branding.primary_color"
		fBackg = "settings.branding.background_color"
	)
	cases := []struct {
		name  string
		b     storage.Branding
		field string
	}{
		{"name too long", storage.Branding{DisplayName: strings.Repeat("é", service.MaxBrandDisplayNameLength+1)}, fName},
		{"name with newline", storage.Branding{DisplayName: "Acme\nCorp"}, fName},
		{"name with NUL", storage.Branding{DisplayName: "Acme\x00"}, fName},
		{"name with DEL", storage.Branding{DisplayName: "Acme\x7f"}, fName},
		{"name with C1 control", storage.Branding{DisplayName: "Acme\u0085"}, fName},
		{"name with bidi override", storage.Branding{DisplayName: "Acme\u202egnp.exe"}, fName},
		{"name only spaces", storage.Branding{DisplayName: "   "}, fName},
		{"name invalid utf-8", storage.Branding{DisplayName: "Acme\xff"}, fName},
		{"logo relative", storage.Branding{LogoURI: "/logo.png"}, fLogo},
		{"logo scheme-relative", storage.Branding{LogoURI: "//cdn.example/logo.png"}, fLogo},
		{"logo plain http", storage.Branding{LogoURI: "http://cdn.example/logo.png"}, fLogo},
		{"logo http localhost name", storage.Branding{LogoURI: "http://localhost/logo.png"}, fLogo},
		{"logo javascript", storage.Branding{LogoURI: "javascript:alert(1)"}, fLogo},
		{"logo data", storage.Branding{LogoURI: "data:image/svg+xml,<svg onload=alert(1)>"}, fLogo},
		{"logo userinfo", storage.Branding{LogoURI: "https://user:pw@cdn.example/logo.png"}, fLogo},
		{"logo with space", storage.Branding{LogoURI: "https://cdn.example/a b.png"}, fLogo},
		{"logo too long", storage.Branding{LogoURI: "https://cdn.example/" + strings.Repeat("a", 2048)}, fLogo},
		{"K10 colour css injection", storage.Branding{PrimaryColor: "red;}body{display:none"}, fPrim},
		{"K10 colour url()", storage.Branding{PrimaryColor: "url(https://evil.example/x)"}, fPrim},
		{"K10 background url()", storage.Branding{BackgroundColor: "url(javascript:alert(1))"}, fBackg},
		{"K10 colour with trailing newline", storage.Branding{PrimaryColor: "#ffffff\n"}, fPrim},
		{"K10 colour with brace", storage.Branding{BackgroundColor: "#fff}"}, fBackg},
		{"colour keyword", storage.Branding{PrimaryColor: "red"}, fPrim},
		{"colour without hash", storage.Branding{PrimaryColor: "ffffff"}, fPrim},
		{"colour 4 digits", storage.Branding{PrimaryColor: "#ffff"}, fPrim},
		{"colour 8 digits", storage.Branding{BackgroundColor: "#ffffff00"}, fBackg},
		{"colour not hex", storage.Branding{BackgroundColor: "#ggg"}, fBackg},
		{"colour rgb()", storage.Branding{BackgroundColor: "rgb(1,2,3)"}, fBackg},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.b
			_, err := env.Service.UpdateWorkspace(ctx, "default", service.WorkspacePatch{Branding: &b})
			if fe := fieldErrors(t, err); fe[tc.field] == "" || len(fe) != 1 {
				t.Fatalf("want exactly one error on %s, got %v", tc.field, fe)
			}
			in := service.WorkspaceInput{ID: "branded", Name: "Branded", Settings: storage.WorkspaceSettings{Branding: &b}}
			_, err = env.Service.CreateWorkspace(ctx, in)
			if fe := fieldErrors(t, err); fe[tc.field] == "" {
				t.Fatalf("create: want error on %s, got %v", tc.field, fe)
			}
		})
	}
	w, err := env.Service.GetWorkspace(ctx, "default")
	if err != nil || w.Settings.Branding != nil {
		t.Fatalf("refused updates must not store anything: %+v %v", w.Settings.Branding, err)
	}
}

func TestBrandingReportsEveryProblem(t *testing.T) {
	env, ctx := newEnv(t)
	b := storage.Branding{DisplayName: "a\tb", LogoURI: "ftp://x", PrimaryColor: "red", BackgroundColor: "url(x)"}
	_, err := env.Service.UpdateWorkspace(ctx, "default", service.WorkspacePatch{Branding: &b})
	fe := fieldErrors(t, err)
	for _, f := range []string{"settings.branding.display_name", "settings.branding.logo_uri",
		"settings.branding.primary_color", "settings.branding.background_color"} {
		if fe[f] == "" {
			t.Errorf("missing error for %s in %v", f, fe)
		}
	}
}

func TestBrandingAcceptedAndNormalized(t *testing.T) {
	env, ctx := newEnv(t)
	s := env.Service
	in := service.WorkspaceInput{ID: "acme", Name: "Acme", Settings: storage.WorkspaceSettings{Branding: &storage.Branding{
		DisplayName: "Acme <Corp> ✓", LogoURI: "https://cdn.example/logo.png", PrimaryColor: "#A0B", BackgroundColor: "#FFEEDD",
	}}}
	w, err := s.CreateWorkspace(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := storage.Branding{DisplayName: "Acme <Corp> ✓", LogoURI: "https://cdn.example/logo.png",
		PrimaryColor: "#aa00bb", BackgroundColor: "#ffeedd"}
	if w.Settings.Branding == nil || *w.Settings.Branding != want {
		t.Fatalf("create: branding = %+v, want %+v", w.Settings.Branding, want)
	}
	if got, _ := s.GetWorkspace(ctx, "acme"); got.Settings.Branding == nil || *got.Settings.Branding != want {
		t.Fatalf("stored branding = %+v", got.Settings.Branding)
	}

	// Field patches merge: only the given fields change.
	w, err = s.UpdateWorkspace(ctx, "acme", service.WorkspacePatch{BrandingFields: &service.BrandingPatch{
		PrimaryColor: strPtr("#123"), LogoURI: strPtr("http://127.0.0.1:8080/logo.svg"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	want.PrimaryColor, want.LogoURI = "#112233", "http://127.0.0.1:8080/logo.svg"
	if *w.Settings.Branding != want {
		t.Fatalf("field patch: %+v, want %+v", *w.Settings.Branding, want)
	}

	// A whole Branding replaces; display name at the limit is fine.
	long := strings.Repeat("ß", service.MaxBrandDisplayNameLength)
	w, err = s.UpdateWorkspace(ctx, "acme", service.WorkspacePatch{Branding: &storage.Branding{DisplayName: long}})
	if err != nil || *w.Settings.Branding != (storage.Branding{DisplayName: long}) {
		t.Fatalf("replace: %+v %v", w.Settings.Branding, err)
	}

	// Clearing every field removes the branding.
	w, err = s.UpdateWorkspace(ctx, "acme", service.WorkspacePatch{BrandingFields: &service.BrandingPatch{DisplayName: strPtr("")}})
	if err != nil || w.Settings.Branding != nil {
		t.Fatalf("clear: %+v %v", w.Settings.Branding, err)
	}

	// Patches without branding leave it alone.
	if _, err := s.UpdateWorkspace(ctx, "acme", service.WorkspacePatch{Branding: &storage.Branding{PrimaryColor: "#000"}}); err != nil {
		t.Fatal(err)
	}
	w, err = s.UpdateWorkspace(ctx, "acme", service.WorkspacePatch{Name: strPtr("Acme 2")})
	if err != nil || w.Settings.Branding == nil || w.Settings.Branding.PrimaryColor != "#000000" {
		t.Fatalf("unrelated patch changed branding: %+v %v", w.Settings.Branding, err)
	}
}

// FuzzBrandingColor: whatever colour the service accepts is stored as
// lowercase #rrggbb, the only form the theme stylesheet writes
// (SECURITY.md K10). Seeds run as a normal test.
func FuzzBrandingColor(f *testing.F) {
	for _, s := range []string{"#fff", "#A0B1C2", "red;}body{display:none", "url(x)", "#ffffff\n", "#ff", ""} {
		f.Add(s)
	}
	env, ctx := servicetest.New(f), context.Background()
	f.Fuzz(func(t *testing.T, c string) {
		w, err := env.Service.UpdateWorkspace(ctx, "default", service.WorkspacePatch{Branding: &storage.Branding{PrimaryColor: c}})
		if err != nil || c == "" {
			return
		}
		got := w.Settings.Branding.PrimaryColor
		if len(got) != 7 || got[0] != '#' || strings.Trim(got[1:], "0123456789abcdef") != "" {
			t.Fatalf("accepted %q stored as %q", c, got)
		}
	})
}
