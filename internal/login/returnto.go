package login

import "regexp"

// returnPattern is every page a sign-in may return to besides the consent
// and account pages: the device page of RFC 8628 §3.3, with at most a
// user code in the shape the device page writes. Anything else is
// dropped, so return_to can never send the browser off the issuer
// (SECURITY.md K11: only same-origin relative paths).
var returnPattern = regexp.MustCompile(`^/device(\?user_code=[A-Z]{4}-[A-Z]{4})?$`)

// safeReturn returns v when it is a path a sign-in may return to, else "".
func safeReturn(v string) string {
	if returnPattern.MatchString(v) {
		return v
	}
	return ""
}
