package dcr

import (
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// logoutChannelMetadata is the registration metadata of OpenID Connect
// Back-Channel Logout 1.0 §2.2 and Front-Channel Logout 1.0 §2; the
// service validates the URIs.
type logoutChannelMetadata struct {
	BackchannelLogoutURI              string `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired  bool   `json:"backchannel_logout_session_required,omitempty"`
	FrontchannelLogoutURI             string `json:"frontchannel_logout_uri,omitempty"`
	FrontchannelLogoutSessionRequired bool   `json:"frontchannel_logout_session_required,omitempty"`
}

func (m logoutChannelMetadata) settings() service.LogoutChannels {
	return service.LogoutChannels(m)
}

func logoutChannelMetadataOf(c storage.Client) logoutChannelMetadata {
	return logoutChannelMetadata{
		BackchannelLogoutURI: c.BackchannelLogoutURI, BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired,
		FrontchannelLogoutURI: c.FrontchannelLogoutURI, FrontchannelLogoutSessionRequired: c.FrontchannelLogoutSessionRequired,
	}
}

// logoutChannelsPatch sets every member, so that a full replacement (RFC
// 7592 §2.2) clears the omitted ones.
func logoutChannelsPatch(l service.LogoutChannels) service.LogoutChannelsPatch {
	return service.LogoutChannelsPatch{
		BackchannelLogoutURI: &l.BackchannelLogoutURI, BackchannelLogoutSessionRequired: &l.BackchannelLogoutSessionRequired,
		FrontchannelLogoutURI: &l.FrontchannelLogoutURI, FrontchannelLogoutSessionRequired: &l.FrontchannelLogoutSessionRequired,
	}
}
