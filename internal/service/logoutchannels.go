package service

import (
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/storage"
)

// LogoutChannels are a client's logout URIs: OpenID Connect Back-Channel
// Logout 1.0 §2.2 and Front-Channel Logout 1.0 §2 (package
// logoutchannel delivers them).
type LogoutChannels struct {
	// BackchannelLogoutURI receives logout tokens by POST. It must be
	// https (http only on a loopback address), without a fragment, and a
	// URL the server may fetch (SSRF rules, SECURITY.md L4-L7).
	BackchannelLogoutURI             string
	BackchannelLogoutSessionRequired bool
	// FrontchannelLogoutURI is loaded in an iframe of the signed-out
	// page: https (http only on loopback), without a fragment.
	FrontchannelLogoutURI             string
	FrontchannelLogoutSessionRequired bool
}

// LogoutChannelsPatch updates LogoutChannels; nil fields are unchanged.
type LogoutChannelsPatch struct {
	BackchannelLogoutURI              *string
	BackchannelLogoutSessionRequired  *bool
	FrontchannelLogoutURI             *string
	FrontchannelLogoutSessionRequired *bool
}

func (p LogoutChannelsPatch) apply(in LogoutChannels) LogoutChannels {
	setString(&in.BackchannelLogoutURI, p.BackchannelLogoutURI)
	setString(&in.FrontchannelLogoutURI, p.FrontchannelLogoutURI)
	if p.BackchannelLogoutSessionRequired != nil {
		in.BackchannelLogoutSessionRequired = *p.BackchannelLogoutSessionRequired
	}
	if p.FrontchannelLogoutSessionRequired != nil {
		in.FrontchannelLogoutSessionRequired = *p.FrontchannelLogoutSessionRequired
	}
	return in
}

func logoutChannelsOf(c storage.Client) LogoutChannels {
	return LogoutChannels{
		BackchannelLogoutURI: c.BackchannelLogoutURI, BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired,
		FrontchannelLogoutURI: c.FrontchannelLogoutURI, FrontchannelLogoutSessionRequired: c.FrontchannelLogoutSessionRequired,
	}
}

func withLogoutChannels(c storage.Client, l LogoutChannels) storage.Client {
	c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired = l.BackchannelLogoutURI, l.BackchannelLogoutSessionRequired
	c.FrontchannelLogoutURI, c.FrontchannelLogoutSessionRequired = l.FrontchannelLogoutURI, l.FrontchannelLogoutSessionRequired
	return c
}

// validateLogoutChannels checks the logout URIs: absolute https URLs
// (http only on a loopback address) without a fragment (Back-Channel
// Logout §2.2, Front-Channel Logout §2); the back-channel URI must also
// be one the server may POST to (SSRF rules, SECURITY.md W4), and the
// front-channel URI must share scheme, host and port with one of the
// client's redirect URIs (Front-Channel Logout §2, SECURITY.md W7).
func (s *Service) validateLogoutChannels(v *validator, in ClientInput) {
	l := in.LogoutChannels
	if u := l.BackchannelLogoutURI; u != "" && v.maxLen("backchannel_logout_uri", u, maxURILength) {
		if v.check(isDisplayURL(u) && !hasFragment(u), "backchannel_logout_uri", "url",
			"must be an https URL (http only on a loopback address) without a fragment") {
			if err := s.validateURL(u); err != nil {
				v.add("backchannel_logout_uri", "url", "must be a URL the server may send to: %v", err)
			}
		}
	}
	if u := l.FrontchannelLogoutURI; u != "" && v.maxLen("frontchannel_logout_uri", u, maxURILength) {
		if v.check(isDisplayURL(u) && !hasFragment(u), "frontchannel_logout_uri", "url",
			"must be an https URL (http only on a loopback address) without a fragment") {
			v.check(sameOriginAsOne(u, in.RedirectURIs), "frontchannel_logout_uri", "origin",
				"must have the scheme, host and port of one of the client's redirect URIs")
		}
	}
}

// sameOriginAsOne reports whether raw has the origin of one of uris.
func sameOriginAsOne(raw string, uris []string) bool {
	o, ok := originOf(raw)
	if !ok {
		return false
	}
	for _, r := range uris {
		if ro, ok := originOf(r); ok && ro == o {
			return true
		}
	}
	return false
}

func originOf(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", false
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port, true
}

// hasFragment reports a fragment, even an empty one ("#").
func hasFragment(raw string) bool { return strings.Contains(raw, "#") }
