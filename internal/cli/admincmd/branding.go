package admincmd

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// printBranding prints settings.branding of a workspace response.
func printBranding(w io.Writer, b adminclient.Branding) {
	kv(w, "Brand name", orDash(b.DisplayName), "Brand logo", orDash(b.LogoURI),
		"Brand primary colour", orDash(b.PrimaryColor), "Brand background colour", orDash(b.BackgroundColor))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// brandFlags are the --brand-* flags of "workspaces create/update". Only
// the flags given are sent (the API merges branding members); an empty
// value clears a member. The server validates them.
type brandFlags struct {
	name, logo, primary, background string
}

func (b *brandFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&b.name, "brand-name", "", `name shown on the sign-in and consent pages ("" = the workspace name)`)
	f.StringVar(&b.logo, "brand-logo", "", `https URL of the logo on those pages ("" = none)`)
	f.StringVar(&b.primary, "brand-primary-color", "", `primary colour, #rgb or #rrggbb ("" = default)`)
	f.StringVar(&b.background, "brand-background-color", "", `background colour, #rgb or #rrggbb ("" = default)`)
}

// body returns the branding object of the request: the members whose
// flags were given, or nil when none was.
func (b *brandFlags) body(cmd *cobra.Command) *adminclient.BrandingRequest {
	out := adminclient.BrandingRequest{
		DisplayName: ifChanged(cmd, "brand-name", b.name), LogoURI: ifChanged(cmd, "brand-logo", b.logo),
		PrimaryColor:    ifChanged(cmd, "brand-primary-color", b.primary),
		BackgroundColor: ifChanged(cmd, "brand-background-color", b.background),
	}
	if out == (adminclient.BrandingRequest{}) {
		return nil
	}
	return &out
}
