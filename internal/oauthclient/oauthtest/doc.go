// Package oauthtest is a small, standards-compliant fake authorization
// server for tests of OAuth clients: discovery, JWKS, an authorization
// endpoint with a sign-in form, and a token endpoint for the
// client_credentials, JWT bearer (RFC 7523, assertion verified with
// go-jose), authorization_code (PKCE S256) and refresh_token grants, with
// the five client authentication methods. It exists because Latchkey's own
// server does not implement the JWT bearer and code flows yet; it is not
// meant for production.
package oauthtest
