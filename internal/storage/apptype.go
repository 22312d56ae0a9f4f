package storage

import (
	"net"
	"net/url"
	"strings"
)

// Application types of a client (Client.ApplicationType): OpenID Connect
// Registration §2's "web" and "native", and Latchkey's "spa" (a browser
// application) and "service" (machine to machine, no users). The service
// layer enforces their rules.
const (
	ApplicationTypeWeb     = "web"
	ApplicationTypeNative  = "native"
	ApplicationTypeSPA     = "spa"
	ApplicationTypeService = "service"
)

// EffectiveApplicationType is the client's application type: the stored
// one or, for a client stored before application types existed (""), the
// type inferred from its other settings, in this order:
//
//  1. an application_type kept in Extra by dynamic registration ("web",
//     or "native" for a public client);
//  2. a public client: "native" when a redirect URI uses a private-use
//     scheme (RFC 8252 §7.1) or plain http on a loopback host (§7.3),
//     "spa" otherwise;
//  3. a confidential client without redirect URIs whose only grant is
//     client_credentials: "service";
//  4. "web".
//
// The rules of the inferred type hold for the settings it was inferred
// from, so inference never makes a stored client invalid.
func (c Client) EffectiveApplicationType() string {
	if c.ApplicationType != "" {
		return c.ApplicationType
	}
	public := c.Type == "public"
	if t, _ := c.Extra["application_type"].(string); t == ApplicationTypeWeb || (t == ApplicationTypeNative && public) {
		return t
	}
	if public {
		for _, u := range c.RedirectURIs {
			if isNativeRedirect(u) {
				return ApplicationTypeNative
			}
		}
		return ApplicationTypeSPA
	}
	if len(c.RedirectURIs) == 0 && len(c.GrantTypes) > 0 {
		machine := true
		for _, g := range c.GrantTypes {
			machine = machine && g == "client_credentials"
		}
		if machine {
			return ApplicationTypeService
		}
	}
	return ApplicationTypeWeb
}

// isNativeRedirect reports whether raw is a redirect URI that only a
// native application uses: a private-use scheme (RFC 8252 §7.1) or plain
// http on a loopback host (§7.3).
func isNativeRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	if strings.Contains(scheme, ".") {
		return true
	}
	if scheme != "http" {
		return false
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	return (ip != nil && ip.IsLoopback()) || strings.EqualFold(host, "localhost")
}
