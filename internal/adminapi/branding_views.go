package adminapi

import (
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// brandingJSON is a workspace's branding in responses. Every member is
// always present; "" means the page default (the workspace name, no logo,
// the built-in colours).
type brandingJSON struct {
	DisplayName     string `json:"display_name"`
	LogoURI         string `json:"logo_uri"`
	PrimaryColor    string `json:"primary_color"`
	BackgroundColor string `json:"background_color"`
}

func brandingView(b *storage.Branding) brandingJSON {
	if b == nil {
		return brandingJSON{}
	}
	return brandingJSON{DisplayName: b.DisplayName, LogoURI: b.LogoURI, PrimaryColor: b.PrimaryColor,
		BackgroundColor: b.BackgroundColor}
}

// brandingRequest is the branding object of a workspace POST or PATCH.
// In a PATCH only the members present change and "" clears one (RFC 7396
// merge semantics for this object); validation is the service layer's.
type brandingRequest struct {
	DisplayName     *string `json:"display_name"`
	LogoURI         *string `json:"logo_uri"`
	PrimaryColor    *string `json:"primary_color"`
	BackgroundColor *string `json:"background_color"`
}

func (b *brandingRequest) patch() *service.BrandingPatch {
	return &service.BrandingPatch{DisplayName: b.DisplayName, LogoURI: b.LogoURI, PrimaryColor: b.PrimaryColor,
		BackgroundColor: b.BackgroundColor}
}

func (b *brandingRequest) branding() *storage.Branding {
	return &storage.Branding{DisplayName: deref(b.DisplayName), LogoURI: deref(b.LogoURI),
		PrimaryColor: deref(b.PrimaryColor), BackgroundColor: deref(b.BackgroundColor)}
}
