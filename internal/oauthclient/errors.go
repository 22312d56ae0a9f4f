package oauthclient

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Error is an error answer of the authorization server (RFC 6749 §5.2,
// or §4.1.2.1 on the redirect URI), kept exactly as it came, with a hint
// a person can act on.
type Error struct {
	Status      int    // HTTP status; 0 for an authorization response error
	Code        string // the "error" member
	Description string // "error_description"
	URI         string // "error_uri"
	Body        string // a non-JSON body, shortened
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("oauthclient: the authorization server answered")
	if e.Status != 0 {
		fmt.Fprintf(&b, " HTTP %d", e.Status)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " error=%q", e.Code)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, " error_description=%q", e.Description)
	}
	if e.URI != "" {
		fmt.Fprintf(&b, " error_uri=%q", e.URI)
	}
	if e.Code == "" && e.Body != "" {
		fmt.Fprintf(&b, ": %s", e.Body)
	}
	return b.String()
}

func parseError(resp *http.Response, raw []byte) error {
	e := &Error{Status: resp.StatusCode}
	var doc struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		ErrorURI         string `json:"error_uri"`
	}
	if json.Unmarshal(raw, &doc) == nil && doc.Error != "" {
		e.Code, e.Description, e.URI = doc.Error, doc.ErrorDescription, doc.ErrorURI
		return e
	}
	e.Body = shorten(strings.TrimSpace(string(raw)), 300)
	return e
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// hintRules are matched in order against the lower-cased error code and
// description; the first match wins. They cover the failures people meet
// when wiring an integration for the first time.
var hintRules = []struct {
	codes    []string // empty = any
	keywords []string // empty = any
	hint     string
}{
	{nil, []string{"redirect_uri", "redirect uri", "redirect-uri", "callback"},
		"redirect URI mismatch: the redirect URI must be registered on the client exactly as sent (scheme, host, port and path; default http://localhost:1717/OauthRedirect); set it with --redirect-uri"},
	{nil, []string{"kid", "no certificate matches", "no key matches", "unknown key", "signing key"},
		"unknown kid: the server has no certificate or key under this kid. Upload the certificate (latchkey keys inspect prints its x5t#S256, the usual kid) or pass the kid the server assigned with --kid"},
	{nil, []string{"audience", " aud", "aud "},
		"wrong audience: the assertion's aud must be what the server expects: its issuer, its token endpoint or a configured login URL. Set --audience (JWT grant) or --assertion-audience issuer|token_endpoint|URL (client assertions)"},
	{nil, []string{"expired", "exp ", "expiration", "too old"},
		"expired assertion or clock skew: check this machine's clock (e.g. timedatectl), and keep --expires-in within the server's maximum assertion lifetime"},
	{nil, []string{"iat", "nbf", "not yet valid", "future", "clock", "skew", "issued in the"},
		"clock skew: this machine's clock and the server's disagree; synchronise the clock (NTP)"},
	{nil, []string{"replay", "jti", "already used", "already been used"},
		"the assertion was already used (jti replay): each assertion is single use; run the command again for a new one"},
	{[]string{"invalid_client"}, nil,
		"client authentication failed: check the client id and secret (or key), and that --auth-method is the one registered for the client (the server lists token_endpoint_auth_methods_supported in its discovery document)"},
	{[]string{"unauthorized_client"}, nil,
		"the client may not use this grant: enable the grant type (e.g. JWT bearer, client credentials) on the client at the server"},
	{[]string{"invalid_scope"}, nil,
		"a requested scope is unknown or not allowed for this client: check --scope against the client's allowed scopes"},
	{[]string{"unsupported_grant_type"}, nil,
		"the server does not support this grant type (check grant_types_supported in its discovery document)"},
	{[]string{"invalid_grant"}, []string{"user", "subject", "sub"},
		"the subject was refused: check --subject and that the user exists, is active and is pre-authorized for the app"},
}

// Hint suggests what to do about e, or "" when nothing specific is known.
func (e *Error) Hint() string {
	code := strings.ToLower(e.Code)
	desc := " " + strings.ToLower(e.Description) + " "
	if h := lifetimeHint(desc); h != "" {
		return h
	}
	for _, r := range hintRules {
		if matchAny(code, r.codes, equals) && matchAny(desc, r.keywords, strings.Contains) {
			return r.hint
		}
	}
	return ""
}

// maxLifetime finds the bound in a refused assertion lifetime, as
// Latchkey words it ("assertion lifetime 600 s exceeds the maximum of
// 180 s", or "this workspace's maximum of 180 s").
var maxLifetime = regexp.MustCompile(`assertion lifetime \d+ s exceeds [a-z' ]*maximum of (\d+) s`)

// lifetimeHint turns an assertion lifetime over the server's bound (RFC
// 7523 §3 item 4 lets the server refuse an exp too far ahead) into the
// --expires-in value that fits, counted in whole minutes like the flag.
func lifetimeHint(desc string) string {
	m := maxLifetime.FindStringSubmatch(desc)
	if m == nil {
		return ""
	}
	secs, err := strconv.Atoi(m[1])
	if err != nil {
		return ""
	}
	if secs < 60 {
		return fmt.Sprintf("assertion lifetime too long: the server allows at most %d s, less than the one minute --expires-in can express; ask the server administrator to raise the maximum assertion lifetime", secs)
	}
	return fmt.Sprintf("assertion lifetime too long: the server allows at most %d s; pass --expires-in %d (minutes) or less", secs, secs/60)
}

func equals(a, b string) bool { return a == b }

func matchAny(s string, list []string, match func(string, string) bool) bool {
	if len(list) == 0 {
		return true
	}
	for _, v := range list {
		if match(s, v) {
			return true
		}
	}
	return false
}
