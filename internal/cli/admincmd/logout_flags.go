package admincmd

import (
	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// logoutChannelFlags are a client's logout URIs: OpenID Connect
// Back-Channel Logout 1.0 §2.2 and Front-Channel Logout 1.0 §2.
type logoutChannelFlags struct {
	backURI, frontURI         string
	backSession, frontSession bool
}

func (lf *logoutChannelFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&lf.backURI, "backchannel-logout-uri", "", "https URL that receives logout tokens when a user's session ends (\"\" removes it)")
	f.BoolVar(&lf.backSession, "backchannel-logout-session-required", false, "the client needs sid in logout tokens")
	f.StringVar(&lf.frontURI, "frontchannel-logout-uri", "", "https URL loaded in an iframe of the signed-out page (\"\" removes it)")
	f.BoolVar(&lf.frontSession, "frontchannel-logout-session-required", false, "add iss and sid to the front-channel logout URL")
}

// apply sets the members whose flags were given.
func (lf *logoutChannelFlags) apply(cmd *cobra.Command, cf *adminclient.ClientFlow) {
	cf.BackchannelLogoutURI = ifChanged(cmd, "backchannel-logout-uri", lf.backURI)
	cf.BackchannelLogoutSessionRequired = ifChanged(cmd, "backchannel-logout-session-required", lf.backSession)
	cf.FrontchannelLogoutURI = ifChanged(cmd, "frontchannel-logout-uri", lf.frontURI)
	cf.FrontchannelLogoutSessionRequired = ifChanged(cmd, "frontchannel-logout-session-required", lf.frontSession)
}
