package service

import (
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// Token delivery modes of backchannel authentication (CIBA Core §5).
// Push mode is not offered.
const (
	CIBAModePoll = "poll"
	CIBAModePing = "ping"
)

// CIBADeliveryModes are the modes a client may register, as discovery
// advertises them (backchannel_token_delivery_modes_supported, §4).
var CIBADeliveryModes = []string{CIBAModePoll, CIBAModePing}

// CIBASettings are a client's backchannel authentication settings (CIBA
// Core §4 client metadata).
type CIBASettings struct {
	// BackchannelTokenDeliveryMode is "", "poll" or "ping"; "" means the
	// client cannot make backchannel authentication requests.
	BackchannelTokenDeliveryMode string
	// BackchannelClientNotificationEndpoint is required in ping mode: an
	// https URL the server may POST to (SSRF rules, SECURITY.md L).
	BackchannelClientNotificationEndpoint string
	// BackchannelUserCodeParameter must be false: no user_code support.
	BackchannelUserCodeParameter bool
}

// CIBASettingsPatch updates CIBASettings; nil fields are unchanged.
type CIBASettingsPatch struct {
	BackchannelTokenDeliveryMode          *string
	BackchannelClientNotificationEndpoint *string
	BackchannelUserCodeParameter          *bool
}

func (p CIBASettingsPatch) apply(in CIBASettings) CIBASettings {
	setString(&in.BackchannelTokenDeliveryMode, p.BackchannelTokenDeliveryMode)
	setString(&in.BackchannelClientNotificationEndpoint, p.BackchannelClientNotificationEndpoint)
	if p.BackchannelUserCodeParameter != nil {
		in.BackchannelUserCodeParameter = *p.BackchannelUserCodeParameter
	}
	return in
}

func (p CIBASettingsPatch) fields() []string {
	return setFields("backchannel_token_delivery_mode", p.BackchannelTokenDeliveryMode != nil,
		"backchannel_client_notification_endpoint", p.BackchannelClientNotificationEndpoint != nil,
		"backchannel_user_code_parameter", p.BackchannelUserCodeParameter != nil)
}

func cibaOf(c storage.Client) CIBASettings {
	return CIBASettings{
		BackchannelTokenDeliveryMode:          c.BackchannelTokenDeliveryMode,
		BackchannelClientNotificationEndpoint: c.BackchannelClientNotificationEndpoint,
		BackchannelUserCodeParameter:          c.BackchannelUserCodeParameter,
	}
}

func withCIBA(c storage.Client, s CIBASettings) storage.Client {
	c.BackchannelTokenDeliveryMode = s.BackchannelTokenDeliveryMode
	c.BackchannelClientNotificationEndpoint = s.BackchannelClientNotificationEndpoint
	c.BackchannelUserCodeParameter = s.BackchannelUserCodeParameter
	return c
}

// validateCIBA checks the settings (CIBA Core §4): a known delivery mode;
// a notification endpoint exactly in ping mode, https and one the server
// may send to; no user_code; and the grant only for confidential clients,
// which alone can authenticate at the backchannel authentication endpoint
// (§7.1).
func (s *Service) validateCIBA(v *validator, in ClientInput) {
	c := in.AuthFlowSettings.CIBASettings
	mode := c.BackchannelTokenDeliveryMode
	v.check(mode == "" || contains(CIBADeliveryModes, mode), "backchannel_token_delivery_mode", "enum",
		"must be %q or %q (push mode is not supported)", CIBAModePoll, CIBAModePing)
	v.check(!c.BackchannelUserCodeParameter, "backchannel_user_code_parameter", "unsupported",
		"user_code is not supported (backchannel_user_code_parameter_supported is false)")
	v.check(!contains(in.GrantTypes, oauth2.GrantCIBA) || in.Type == oauth2.ClientConfidential,
		"grant_types", "public_client", "%s requires a confidential client (CIBA Core §7.1)", oauth2.GrantCIBA)
	u := c.BackchannelClientNotificationEndpoint
	if mode == CIBAModePing {
		v.check(u != "", "backchannel_client_notification_endpoint", "required", "is required in ping mode (CIBA Core §4)")
	} else {
		v.check(u == "", "backchannel_client_notification_endpoint", "consistency", "is only used in ping mode")
	}
	if u != "" && v.maxLen("backchannel_client_notification_endpoint", u, maxURILength) {
		if v.check(!hasFragment(u), "backchannel_client_notification_endpoint", "url", "must not have a fragment") {
			if err := s.validateURL(u); err != nil {
				v.add("backchannel_client_notification_endpoint", "url", "must be an https URL the server may send to: %v", err)
			}
		}
	}
}
