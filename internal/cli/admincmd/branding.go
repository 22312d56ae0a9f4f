package admincmd

import (
	"io"

	"github.com/spf13/cobra"
)

// brandingView is settings.branding of a workspace response.
type brandingView struct {
	DisplayName     string `json:"display_name"`
	LogoURI         string `json:"logo_uri"`
	PrimaryColor    string `json:"primary_color"`
	BackgroundColor string `json:"background_color"`
}

func (b brandingView) print(w io.Writer) {
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

var brandFlagMembers = []struct{ flag, member string }{
	{"brand-name", "display_name"},
	{"brand-logo", "logo_uri"},
	{"brand-primary-color", "primary_color"},
	{"brand-background-color", "background_color"},
}

func (b *brandFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&b.name, "brand-name", "", `name shown on the sign-in and consent pages ("" = the workspace name)`)
	f.StringVar(&b.logo, "brand-logo", "", `https URL of the logo on those pages ("" = none)`)
	f.StringVar(&b.primary, "brand-primary-color", "", `primary colour, #rgb or #rrggbb ("" = default)`)
	f.StringVar(&b.background, "brand-background-color", "", `background colour, #rgb or #rrggbb ("" = default)`)
}

// body returns the branding object of the request: the members whose
// flags were given.
func (b *brandFlags) body(cmd *cobra.Command) map[string]string {
	f := cmd.Flags()
	values := map[string]string{
		"brand-name": b.name, "brand-logo": b.logo, "brand-primary-color": b.primary, "brand-background-color": b.background,
	}
	out := map[string]string{}
	for _, m := range brandFlagMembers {
		if f.Changed(m.flag) {
			out[m.member] = values[m.flag]
		}
	}
	return out
}
