package ssrf

import (
	"errors"
	"net/url"
	"strings"
)

// URL validation errors; texts are safe to return to whoever registered the
// URL. The two an operator can lift name the server setting that does so
// (docs/security.md L1, L2), since the person reading them usually has to
// ask for it.
var (
	ErrInvalidURL  = errors.New("URL is invalid")
	ErrScheme      = errors.New("URL must use https (http only when the server enables outbound.allow_http)")
	ErrUserinfo    = errors.New("URL must not contain user information")
	ErrFragment    = errors.New("URL must not contain a fragment")
	ErrBlockedHost = errors.New("URL points to a private, loopback or reserved address (allowed only when the server enables outbound.allow_private_addresses)")
)

// ValidateURL is the registration-time check (https, no userinfo/fragment,
// literal IP checks; SECURITY.md L1, L2). Names are not resolved here: DNS
// answers change, so the dial-time check in NewClient is what holds.
func ValidateURL(raw string, allowPrivate bool) error {
	return ValidateURLWith(raw, Options{AllowPrivate: allowPrivate})
}

// ValidateURLWith is ValidateURL honouring Options.AllowHTTP as well, for
// operators with internal JWKS servers and for tests.
func ValidateURLWith(raw string, opts Options) error {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || len(raw) > 2048 {
		return ErrInvalidURL
	}
	if err := checkScheme(u.Scheme, opts.AllowHTTP); err != nil {
		return err
	}
	if u.User != nil || strings.Contains(u.Host, "@") {
		return ErrUserinfo
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return ErrFragment
	}
	return checkHost(u.Hostname(), u.Host, opts.AllowPrivate)
}

func checkScheme(scheme string, allowHTTP bool) error {
	if scheme == "https" || (allowHTTP && scheme == "http") {
		return nil
	}
	return ErrScheme
}

// checkHost refuses empty hosts, zone identifiers, literal addresses in a
// blocked range, localhost names, and numeric-looking hosts that are not
// valid addresses (parsers disagree on those).
func checkHost(host, hostport string, allowPrivate bool) error {
	if host == "" || strings.Contains(hostport, "%") {
		return ErrInvalidURL
	}
	if addr, ok := parseHostIP(host); ok {
		if !allowPrivate && IsBlockedIP(addr) {
			return ErrBlockedHost
		}
		return nil
	}
	if looksNumeric(host) {
		return ErrInvalidURL
	}
	if !allowPrivate && isLocalName(host) {
		return ErrBlockedHost
	}
	return nil
}

// isLocalName matches names that resolve to loopback by convention
// (RFC 6761 §6.3) or are internal-only by definition.
func isLocalName(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, suffix := range []string{"localhost", "localdomain", "internal", "local"} {
		if h == suffix || strings.HasSuffix(h, "."+suffix) {
			return true
		}
	}
	return false
}
