// Package oauth2 holds the protocol vocabulary shared by every endpoint:
// error codes (RFC 6749 §5.2, RFC 7009, RFC 7591, RFC 7662), grant type and
// client-assertion URNs, token endpoint authentication methods, and the one
// function that turns a protocol error into an HTTP response.
//
// It imports nothing internal so that every other package can depend on it.
package oauth2
