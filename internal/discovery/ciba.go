package discovery

import (
	"slices"

	"github.com/latchkey/latchkey/internal/service"
)

// addCIBA advertises backchannel authentication (OpenID Connect CIBA Core
// 1.0 §4): the endpoint, the poll and ping delivery modes (push is not
// offered) and backchannel_user_code_parameter_supported false. The grant
// type urn:openid:params:grant-type:ciba is in grant_types_supported
// through the token endpoint's registry.
func addCIBA(md *Metadata, issuer string) {
	no := false
	md.BackchannelAuthenticationEndpoint = issuer + "/oauth2/bc-authorize"
	md.BackchannelTokenDeliveryModesSupported = slices.Clone(service.CIBADeliveryModes)
	md.BackchannelUserCodeParameterSupported = &no
}
