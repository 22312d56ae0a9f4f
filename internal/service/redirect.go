package service

import (
	"net"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// Limits of redirect URIs.
const (
	MaxRedirectURIs      = 100
	maxRedirectURILength = 2048
)

// dangerousSchemes can run script or read local data when a browser is
// redirected to them (SECURITY.md E3; Keycloak CVE-2026-9086).
var dangerousSchemes = map[string]bool{
	"javascript": true, "data": true, "vbscript": true, "file": true, "blob": true, "about": true,
}

// redirectURIProblem returns why raw is not an acceptable redirect URI, or
// "" when it is. Rules (RFC 9700 §2.1/§2.6, RFC 8252 §7, SECURITY.md E3):
// absolute; no fragment (RFC 6749 §3.1.2); no wildcard; never a script or
// data scheme; https, or http only on a loopback host, or, for public
// (native) clients, a private-use scheme in reverse-domain form.
func redirectURIProblem(raw, clientType string) string {
	if len(raw) > maxRedirectURILength {
		return "must be at most 2048 characters"
	}
	if strings.ContainsAny(raw, "*") {
		return "must not contain a wildcard '*'"
	}
	if strings.ContainsAny(raw, " \t\r\n\\") || strings.ContainsFunc(raw, isControl) {
		return "must not contain whitespace, backslashes or control characters"
	}
	if strings.Contains(raw, "#") {
		return "must not contain a fragment (RFC 6749 §3.1.2)"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "must be an absolute URI"
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case dangerousSchemes[scheme]:
		return "must not use the " + scheme + ": scheme"
	case scheme == "https":
		return webRedirectProblem(u, false)
	case scheme == "http":
		return webRedirectProblem(u, true)
	case strings.Contains(scheme, "."):
		if clientType != oauth2.ClientPublic {
			return "private-use URI schemes are allowed only for public (native) clients (RFC 8252 §7.1)"
		}
		return ""
	}
	return "must use https (or http on a loopback address)"
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// webRedirectProblem checks an http(s) redirect URI. Plain http is allowed
// only for loopback hosts: IP literals, and "localhost" (see below).
func webRedirectProblem(u *url.URL, plainHTTP bool) string {
	if u.User != nil {
		return "must not contain user information"
	}
	host := u.Hostname()
	if host == "" {
		return "must have a host"
	}
	if !plainHTTP {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return ""
	}
	// "localhost" is accepted although RFC 8252 §8.3 prefers IP literals:
	// the vendor guides Latchkey's users follow register
	// http://localhost:1717/OauthRedirect, and a redirect is still matched
	// exactly against what was registered (only the port may vary, §7.3),
	// so the name never widens what a request may ask for.
	if strings.EqualFold(host, "localhost") {
		return ""
	}
	return "must use https (or http on a loopback address)"
}
