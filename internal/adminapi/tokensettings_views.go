package adminapi

import (
	"time"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// tokenSettingsView is the client's access token format ("jwt" when
// unset) and ID token lifetime in seconds.
func tokenSettingsView(c storage.Client) (*string, *int64) {
	format := storage.AccessTokenJWT
	if c.OpaqueAccessTokens() {
		format = storage.AccessTokenOpaque
	}
	ttl := toSeconds(c.IDTokenTTL)
	return &format, &ttl
}

func (f clientFlow) tokenSettingsPatch() service.TokenSettingsPatch {
	p := service.TokenSettingsPatch{AccessTokenFormat: f.AccessTokenFormat, DPoPBoundAccessTokens: f.DPoPBoundAccessTokens}
	if f.IDTokenTTL != nil {
		ttl := time.Duration(*f.IDTokenTTL) * time.Second
		p.IDTokenTTL = &ttl
	}
	return p
}

func (f clientFlow) tokenSettings() service.TokenSettings {
	var t service.TokenSettings
	if f.AccessTokenFormat != nil {
		t.AccessTokenFormat = *f.AccessTokenFormat
	}
	if f.IDTokenTTL != nil {
		t.IDTokenTTL = time.Duration(*f.IDTokenTTL) * time.Second
	}
	if f.DPoPBoundAccessTokens != nil {
		t.DPoPBoundAccessTokens = *f.DPoPBoundAccessTokens
	}
	return t
}
