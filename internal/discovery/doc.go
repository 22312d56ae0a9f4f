// Package discovery serves the authorization server metadata of each
// workspace and its JSON Web Key Set:
//
//   - GET /w/{ws}/.well-known/openid-configuration (OpenID Connect
//     Discovery 1.0 §4) and
//   - GET /.well-known/oauth-authorization-server/w/{ws} (RFC 8414 §3, the
//     path-inserted form for an issuer with a path) answer the identical
//     document, whose issuer is exactly the workspace issuer
//     (SECURITY.md J1; the base URL is configured, never taken from Host,
//     J2);
//   - GET /w/{ws}/oauth2/jwks serves the published keys (next, active,
//     retired; public members only) as application/jwk-set+json.
//
// # What is advertised
//
// The document is built from the same sources that gate behaviour, so that
// what is advertised is exactly what is accepted (SECURITY.md P1):
// grant_types_supported is the token endpoint's registry
// (grants.Supported, which the server hands in as Handler.GrantTypes so
// that this package needs nothing else of the grants), the auth methods are the workspace's allowed methods,
// the assertion algorithms are the allowlists client authentication
// enforces, and scopes_supported lists the workspace's scopes.
//
// Only fields that are true are served: the authorization endpoint,
// UserInfo, end_session_endpoint, response_types_supported ("code"),
// response modes, subject types, ID token algorithms and PKCE methods come
// from the same lists the authorization endpoint and the OpenID Connect
// handlers enforce (addAuthorizationFlow); request_parameter_supported and
// request_uri_parameter_supported are false because request objects are
// answered with request_not_supported and request_uri_not_supported
// (SECURITY.md E9).
//
// # Caching
//
// Both documents are cacheable (Cache-Control: public) for MaxAge, 5
// minutes by default. MaxAge must stay at most half of the signing
// manager's PublishLead (10 minutes by default), so that a relying party
// that cached the JWKS just before a new key was published still refreshes
// before that key starts signing (SECURITY.md P2).
package discovery
