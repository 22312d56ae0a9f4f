// Package device implements the device authorization grant's user-facing
// half (RFC 8628): the device authorization endpoint at POST
// /w/{ws}/oauth2/device_authorization and the device page at GET and POST
// /w/{ws}/device. The token endpoint's half, polling with the device code,
// is the urn:ietf:params:oauth:grant-type:device_code grant of package
// grants.
//
// # Device authorization endpoint (RFC 8628 §3.1, §3.2)
//
// The client authenticates exactly as at the token endpoint (package
// clientauth; public clients with "none"), must have the device_code grant
// type (which no client has unless an administrator adds it) and may ask
// only for the scopes it is allowed. The answer carries a device code of
// 256 random bits (prefix lkdc_), a user code of 8 characters from
// UserCodeAlphabet shown as XXXX-XXXX, verification_uri (the device page),
// verification_uri_complete (the same with the code), expires_in (600 s)
// and interval (5 s). Only the SHA-256 of each code is stored. Each
// client has a request budget (Limits.PerClient; over it: 429 slow_down
// with Retry-After), so a public client's identifier cannot fill the
// database.
//
// # Device page (RFC 8628 §3.3, §5.1, §5.4)
//
// The page needs a signed-in user: a browser without a session is sent to
// the workspace's sign-in page, which returns to the device page (with a
// well-formed code from verification_uri_complete, nothing else). The user
// types the code (or finds it prefilled) and submits it; the page then
// shows the client, the code again, the requested scopes in words and a
// warning against codes sent by someone else, and asks for Allow or Deny.
// A GET never looks a code up nor decides anything; each POST needs the
// browser's CSRF token for its form (SECURITY.md K1, V6).
//
// User-code entry is limited (Limits): wrong codes spend the budgets of the
// source address, the user and the workspace; a found code spends its own
// entry budget. An empty bucket answers 429 with Retry-After before any
// lookup. Wrong, expired and already decided codes all get one message.
//
// On Allow the client's user policy (or the workspace default) and the
// access policies of the requested scopes run with the approving user, as
// at the authorization endpoint; a denial is recorded (the device gets
// access_denied) and shown with the rule's message. The decision is one
// conditional update, so a code is decided once.
package device
