package adminapi

import (
	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// brandingView is a workspace's branding in responses: every member
// present, "" for the page default.
func brandingView(b *storage.Branding) adminclient.Branding {
	if b == nil {
		return adminclient.Branding{}
	}
	return adminclient.Branding{DisplayName: b.DisplayName, LogoURI: b.LogoURI, PrimaryColor: b.PrimaryColor,
		BackgroundColor: b.BackgroundColor}
}

// brandingPatch is the branding object of a workspace PATCH: only the
// members present change and "" clears one (RFC 7396 merge semantics for
// this object); validation is the service layer's.
func brandingPatch(b *adminclient.BrandingRequest) *service.BrandingPatch {
	return &service.BrandingPatch{DisplayName: b.DisplayName, LogoURI: b.LogoURI, PrimaryColor: b.PrimaryColor,
		BackgroundColor: b.BackgroundColor}
}

// brandingValue is the branding object of a workspace POST.
func brandingValue(b *adminclient.BrandingRequest) *storage.Branding {
	return &storage.Branding{DisplayName: deref(b.DisplayName), LogoURI: deref(b.LogoURI),
		PrimaryColor: deref(b.PrimaryColor), BackgroundColor: deref(b.BackgroundColor)}
}
