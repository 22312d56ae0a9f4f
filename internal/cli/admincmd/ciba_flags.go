package admincmd

import (
	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// cibaFlags are a client's backchannel authentication settings (OpenID
// Connect CIBA Core 1.0 §4). The grant type itself is given with
// --grant-type urn:openid:params:grant-type:ciba.
type cibaFlags struct {
	mode, notificationEndpoint string
}

func (cf *cibaFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&cf.mode, "backchannel-token-delivery-mode", "", "backchannel authentication (CIBA) delivery mode: poll or ping (\"\" turns it off)")
	f.StringVar(&cf.notificationEndpoint, "backchannel-client-notification-endpoint", "", "ping mode: https URL notified when the user decides (\"\" removes it)")
}

// apply sets the members whose flags were given.
func (cf *cibaFlags) apply(cmd *cobra.Command, flow *adminclient.ClientFlow) {
	flow.BackchannelTokenDeliveryMode = ifChanged(cmd, "backchannel-token-delivery-mode", cf.mode)
	flow.BackchannelClientNotificationEndpoint = ifChanged(cmd, "backchannel-client-notification-endpoint", cf.notificationEndpoint)
}
