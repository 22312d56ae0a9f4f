// Package oauthclient is the client side of OAuth 2.0 and OpenID Connect,
// written to work against any standards-compliant authorization server
// (Latchkey, Salesforce, ServiceNow, Okta, Keycloak...), not only ours.
//
// It covers discovery (OpenID Connect Discovery 1.0 §4 and RFC 8414 §3),
// the client authentication methods of RFC 6749 §2.3 and RFC 7523 §2.2 /
// OIDC Core §9 (client_secret_basic, client_secret_post, client_secret_jwt,
// private_key_jwt, none), and the grants client_credentials (RFC 6749
// §4.4), JWT bearer (RFC 7523 §2.1), authorization code with PKCE S256
// (RFC 6749 §4.1, RFC 7636) through a loopback redirect listener (RFC 8252
// §7.3), and refresh (RFC 6749 §6). ID tokens are verified with go-oidc,
// assertions are signed with go-jose.
//
// Token requests go through one function (Client.tokenRequest) rather than
// golang.org/x/oauth2's token sources: x/oauth2 cannot express
// client_secret_jwt, private_key_jwt, ES256 assertions or an assertion sent
// together with client credentials (ServiceNow), and a single path keeps
// the error reporting identical for every flow. x/oauth2 is used where it
// fits: PKCE verifiers and challenges, and building the authorization URL.
//
// Every outgoing request uses the http.Client from NewHTTPClient, whose
// proxy is set explicitly with http.ProxyURL so that it applies even to
// loopback servers (Go's environment proxy skips them).
package oauthclient
