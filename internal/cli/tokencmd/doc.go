// Package tokencmd implements "latchkey token": named connections to any
// OAuth 2.0 / OpenID Connect server, and commands that obtain tokens with
// the client_credentials, JWT bearer (RFC 7523), authorization code (PKCE)
// and refresh grants through internal/oauthclient.
//
// Connections live in a YAML file in the user configuration directory
// (os.UserConfigDir()/latchkey/connections.yaml, or $LATCHKEY_TOKEN_CONFIG),
// written with mode 0600. Secrets are stored as references (env:NAME,
// file:PATH, prompt) and only inline ("literal:...") when the user asks
// with --store-secret. Tokens are cached per connection in 0600 files next
// to it and are refreshed or obtained again 30 seconds before they expire,
// so "token get" never prints an expired token.
package tokencmd
