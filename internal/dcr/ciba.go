package dcr

import (
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// cibaMetadata is the registration metadata of OpenID Connect
// Client-Initiated Backchannel Authentication Core 1.0 §4; the service
// validates it. The urn:openid:params:grant-type:ciba grant itself is
// registered only under an initial access token whose policy lists it,
// like every grant that issues a user's tokens.
type cibaMetadata struct {
	BackchannelTokenDeliveryMode          string `json:"backchannel_token_delivery_mode,omitempty"`
	BackchannelClientNotificationEndpoint string `json:"backchannel_client_notification_endpoint,omitempty"`
	BackchannelUserCodeParameter          bool   `json:"backchannel_user_code_parameter,omitempty"`
}

func (m cibaMetadata) settings() service.CIBASettings { return service.CIBASettings(m) }

func cibaMetadataOf(c storage.Client) cibaMetadata {
	return cibaMetadata{
		BackchannelTokenDeliveryMode:          c.BackchannelTokenDeliveryMode,
		BackchannelClientNotificationEndpoint: c.BackchannelClientNotificationEndpoint,
		BackchannelUserCodeParameter:          c.BackchannelUserCodeParameter,
	}
}

// cibaPatch sets every member, so that a full replacement (RFC 7592 §2.2)
// clears the omitted ones.
func cibaPatch(c service.CIBASettings) service.CIBASettingsPatch {
	return service.CIBASettingsPatch{
		BackchannelTokenDeliveryMode:          &c.BackchannelTokenDeliveryMode,
		BackchannelClientNotificationEndpoint: &c.BackchannelClientNotificationEndpoint,
		BackchannelUserCodeParameter:          &c.BackchannelUserCodeParameter,
	}
}
