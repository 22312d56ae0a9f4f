package login

import "regexp"

// returnPattern is every page a sign-in may return to besides the consent
// and account pages, each a fixed path of this workspace's issuer:
//   - the device page of RFC 8628 §3.3, with at most a user code in the
//     shape the device page writes;
//   - the CIBA approval page (package ciba, GET /w/{ws}/ciba), which sends
//     a signed-out user here with return_to=/ciba so that the pending
//     backchannel requests (OpenID CIBA Core §7.3, authenticating the user
//     on the authentication device) are shown once signed in. Its other
//     form, /ciba?link=…, needs no sign-in and is never a return_to.
//
// The whole value must match (RE2 anchors: no multi-line mode, so no
// trailing newline either) and is compared as received, after one
// URL-decoding of the query: "//ciba", "/ciba/../x", "/cibax" and encoded
// forms such as "%2Fciba" or "/ci%62a" are dropped, so return_to can never
// send the browser off the issuer (SECURITY.md K11: only same-origin
// relative paths).
var returnPattern = regexp.MustCompile(`^(?:/device(?:\?user_code=[A-Z]{4}-[A-Z]{4})?|/ciba)$`)

// safeReturn returns v when it is a path a sign-in may return to, else "".
func safeReturn(v string) string {
	if returnPattern.MatchString(v) {
		return v
	}
	return ""
}
