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
// Only fields that are true are served. Latchkey has no authorization
// endpoint yet and issues no ID tokens, so authorization_endpoint,
// subject_types_supported, id_token_signing_alg_values_supported and
// code_challenge_methods_supported are absent. RFC 8414 §2 nevertheless
// makes response_types_supported REQUIRED; it is served as an empty array,
// the one truthful value ("no response type is supported"), rather than
// omitting a required member or claiming "code". Strict OpenID Connect
// relying parties that insist on the OIDC-only required members will not
// accept the document until those features exist; OAuth clients and
// libraries (golang.org/x/oauth2, go-oidc's key set) need only issuer,
// token_endpoint and jwks_uri.
//
// # Caching
//
// Both documents are cacheable (Cache-Control: public) for MaxAge, 5
// minutes by default. MaxAge must stay at most half of the signing
// manager's PublishLead (10 minutes by default), so that a relying party
// that cached the JWKS just before a new key was published still refreshes
// before that key starts signing (SECURITY.md P2).
package discovery
