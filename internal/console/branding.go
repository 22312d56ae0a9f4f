package console

import "github.com/latchkey/latchkey/internal/storage"

// brandingFields are the form fields of the branding section of the
// workspace settings page, in storage.Branding order.
var brandingFields = [...]string{
	"branding_display_name", "branding_logo_uri", "branding_primary_color", "branding_background_color",
}

// brandingForm reads the branding section of the settings form. The
// section always posts all four fields, so the result replaces the
// workspace's branding as a whole (empty fields mean the page defaults);
// nil, "leave unchanged", when the form has no branding section. The
// service layer validates the values (SECURITY.md K10).
func brandingForm(f form) *storage.Branding {
	present := false
	for _, k := range brandingFields {
		if _, ok := f.r.PostForm[k]; ok {
			present = true
		}
	}
	if !present {
		return nil
	}
	return &storage.Branding{
		DisplayName: f.get(brandingFields[0]), LogoURI: f.get(brandingFields[1]),
		PrimaryColor: f.get(brandingFields[2]), BackgroundColor: f.get(brandingFields[3]),
	}
}
