package service

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/latchkey/latchkey/internal/storage"
)

// Limits of workspace branding.
const (
	MaxBrandDisplayNameLength = 100 // characters (runes), not bytes
	maxBrandLogoURILength     = maxURILength
)

// brandColorPattern is the only colour syntax accepted: #rgb or #rrggbb.
// The colours are written into the workspace's theme stylesheet, so any
// wider CSS syntax (keywords, functions such as url(), ';' or '}') would
// allow CSS injection into every sign-in and consent page (SECURITY.md
// K10). Go's '$' matches only at the end of the text, so a trailing
// newline does not pass.
var brandColorPattern = lazyRegexp(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// BrandingPatch changes single branding fields: nil fields are left
// unchanged and "" clears a field (the pages then use their default).
type BrandingPatch struct {
	DisplayName     *string
	LogoURI         *string
	PrimaryColor    *string
	BackgroundColor *string
}

// apply returns b with p's fields set; b may be nil.
func (p BrandingPatch) apply(b *storage.Branding) *storage.Branding {
	var out storage.Branding
	if b != nil {
		out = *b
	}
	setString(&out.DisplayName, p.DisplayName)
	setString(&out.LogoURI, p.LogoURI)
	setString(&out.PrimaryColor, p.PrimaryColor)
	setString(&out.BackgroundColor, p.BackgroundColor)
	return &out
}

// validateBranding checks every branding field and reports each problem
// under settings.branding.<field>.
func validateBranding(v *validator, b *storage.Branding) {
	if b == nil {
		return
	}
	validateBrandDisplayName(v, "settings.branding.display_name", b.DisplayName)
	if b.LogoURI != "" && v.maxLen("settings.branding.logo_uri", b.LogoURI, maxBrandLogoURILength) {
		// The logo is rendered as an <img src>: https only (http on a
		// loopback IP for development), never javascript: or data:
		// (SECURITY.md K10).
		v.check(isDisplayURL(b.LogoURI), "settings.branding.logo_uri", "url",
			"must be an absolute https URL (http only on a loopback address)")
	}
	validateBrandColor(v, "settings.branding.primary_color", b.PrimaryColor)
	validateBrandColor(v, "settings.branding.background_color", b.BackgroundColor)
}

func validateBrandDisplayName(v *validator, field, name string) {
	if name == "" {
		return
	}
	if !v.check(utf8.ValidString(name), field, "utf8", "must be valid UTF-8") {
		return
	}
	v.check(utf8.RuneCountInString(name) <= MaxBrandDisplayNameLength, field, "max_length",
		"must be at most %d characters", MaxBrandDisplayNameLength)
	v.check(strings.TrimSpace(name) != "", field, "blank", "must not be only whitespace")
	v.check(!strings.ContainsFunc(name, isUnsafeDisplayRune), field, "characters",
		"must not contain control or bidirectional formatting characters")
}

// isUnsafeDisplayRune reports control characters (C0, DEL, C1) and the
// bidirectional embedding, override and isolate controls, which could make
// a displayed name read differently from what it is (Unicode TR #9; the
// "Trojan Source" class, CVE-2021-42574).
func isUnsafeDisplayRune(r rune) bool {
	return unicode.IsControl(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) ||
		r == 0x200E || r == 0x200F || r == 0x061C
}

func validateBrandColor(v *validator, field, c string) {
	if c == "" {
		return
	}
	v.check(brandColorPattern.MatchString(c), field, "color", "must be a colour of the form #rgb or #rrggbb")
}

// normalizeBranding returns the stored form of a validated branding: nil
// when every field is empty (the pages use their defaults), colours in
// lowercase #rrggbb, the one form the theme stylesheet accepts
// (storage.Branding, webui.ThemeCSS).
func normalizeBranding(b *storage.Branding) *storage.Branding {
	if b == nil || *b == (storage.Branding{}) {
		return nil
	}
	out := *b
	out.PrimaryColor = expandColor(out.PrimaryColor)
	out.BackgroundColor = expandColor(out.BackgroundColor)
	return &out
}

// expandColor turns #rgb into #rrggbb (CSS Color 4 §5.2: each digit is
// doubled) and lowercases; other values are returned as they are.
func expandColor(c string) string {
	c = strings.ToLower(c)
	if len(c) != 4 || !brandColorPattern.MatchString(c) {
		return c
	}
	return string([]byte{'#', c[1], c[1], c[2], c[2], c[3], c[3]})
}
