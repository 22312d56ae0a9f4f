package service_test

import (
	"testing"

	"github.com/latchkey/latchkey/internal/service"
)

// TestLogoutChannelValidation: logout URIs are https (http only on
// loopback) without a fragment; the back-channel URI follows the SSRF
// rules (SECURITY.md W4) and the front-channel URI shares its origin with
// a redirect URI (Front-Channel Logout 1.0 §2, W7).
func TestLogoutChannelValidation(t *testing.T) {
	env, ctx := newEnv(t)
	cases := []struct {
		name        string
		back, front string
		field       string // "" = accepted
	}{
		{"both https", "https://rp.example.com/bc", "https://app.example.com/fc?x=1", ""},
		{"back loopback ip", "https://127.0.0.1/bc", "", "backchannel_logout_uri"},
		{"back private ip", "https://10.0.0.1/bc", "", "backchannel_logout_uri"},
		{"back http", "http://rp.example/bc", "", "backchannel_logout_uri"},
		{"back fragment", "https://rp.example.com/bc#x", "", "backchannel_logout_uri"},
		{"back empty fragment", "https://rp.example.com/bc#", "", "backchannel_logout_uri"},
		{"back javascript", "javascript:alert(1)", "", "backchannel_logout_uri"},
		{"front other host", "", "https://evil.example.com/fc", "frontchannel_logout_uri"},
		{"front other port", "", "https://app.example.com:8443/fc", "frontchannel_logout_uri"},
		{"front javascript", "", "javascript:alert(1)", "frontchannel_logout_uri"},
		{"front http", "", "http://app.example.com/fc", "frontchannel_logout_uri"},
		{"front fragment", "", "https://app.example.com/fc#x", "frontchannel_logout_uri"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := codeClient("logout" + string(rune('a'+i)))
			in.BackchannelLogoutURI, in.FrontchannelLogoutURI = tc.back, tc.front
			in.BackchannelLogoutSessionRequired, in.FrontchannelLogoutSessionRequired = true, true
			c, err := env.Service.CreateClient(ctx, "default", in)
			if tc.field == "" {
				if err != nil || c.BackchannelLogoutURI != tc.back || c.FrontchannelLogoutURI != tc.front ||
					!c.BackchannelLogoutSessionRequired || !c.FrontchannelLogoutSessionRequired {
					t.Fatalf("create: %v %+v", err, c.Client)
				}
				return
			}
			if _, ok := fieldErrors(t, err)[tc.field]; !ok {
				t.Fatalf("accepted %s: %v", tc.field, err)
			}
		})
	}
	// A patch sets and clears the URIs.
	uri, none := "https://rp.example.com/bc2", ""
	c, err := env.Service.UpdateClient(ctx, "default", "logouta", service.ClientPatch{AuthFlowPatch: service.AuthFlowPatch{
		LogoutChannelsPatch: service.LogoutChannelsPatch{BackchannelLogoutURI: &uri, FrontchannelLogoutURI: &none}}})
	if err != nil || c.BackchannelLogoutURI != uri || c.FrontchannelLogoutURI != "" || !c.BackchannelLogoutSessionRequired {
		t.Fatalf("patch: %v %+v", err, c.Client)
	}
}
