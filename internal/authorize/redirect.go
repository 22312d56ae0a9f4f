package authorize

import (
	"net"
	"net/url"
	"slices"
	"strings"
)

// MatchRedirectURI reports whether requested may be used for a client
// registered with registered: exact string comparison (RFC 9700 §2.1,
// SECURITY.md E1), except that a registered loopback IP literal URI on
// http matches the same URI with any port (RFC 8252 §7.3, E2). Only the
// port may differ: path, query and everything else compare exactly, and
// "localhost" gets no exception (RFC 8252 §8.3).
func MatchRedirectURI(registered []string, requested string) bool {
	if requested == "" {
		return false
	}
	if slices.Contains(registered, requested) {
		return true
	}
	req, err := url.Parse(requested)
	if err != nil || !isLoopbackHTTP(req) {
		return false
	}
	for _, r := range registered {
		reg, err := url.Parse(r)
		if err != nil || !isLoopbackHTTP(reg) || reg.Hostname() != req.Hostname() || reg.Port() != "" {
			continue
		}
		// Compare the raw text after the authority, so that no parser
		// normalisation can make two different URIs equal.
		a, ok1 := afterAuthority(r, reg.Host)
		b, ok2 := afterAuthority(requested, req.Host)
		if ok1 && ok2 && a == b {
			return true
		}
	}
	return false
}

func isLoopbackHTTP(u *url.URL) bool {
	if u.Scheme != "http" || u.User != nil || u.Fragment != "" || u.RawFragment != "" || u.Opaque != "" {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// afterAuthority returns raw without its "http://host[:port]" prefix; ok
// is false when raw does not start that way.
func afterAuthority(raw, host string) (rest string, ok bool) {
	prefix := "http://" + host
	if !strings.HasPrefix(raw, prefix) {
		return "", false
	}
	return raw[len(prefix):], true
}
