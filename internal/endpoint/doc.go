// Package endpoint is the HTTP plumbing every protocol surface shares:
// the token, introspection, revocation, registration, discovery,
// authorization, sign-in, account, UserInfo and logout endpoints. Handler
// packages import it and never each other for plumbing.
//
// # Workspaces
//
// Every route under /w/{ws}/ resolves its workspace once, in the
// middleware of Workspaces.Resolve, before the handler runs: the ID must
// match the workspace ID syntax (docs/architecture.md), the workspace is
// read through the cached store, an unknown or disabled workspace answers
// the surface's 404 and a storage failure 503 temporarily_unavailable with
// Retry-After (docs/security.md R5). Each surface passes its own
// ErrorWriter, so JSON endpoints answer JSON and browser pages a page.
// Handlers read the result with WorkspaceFromContext and IssuerFromContext.
// The issuer is always derived from the configured base URL, never from
// Host or X-Forwarded-* (SECURITY.md J2).
//
// # Forms
//
// ParseForm is the one parser of OAuth request parameters (token,
// introspection, revocation and authorization endpoints); FormOptions
// holds one endpoint's limits, and TokenForm and AuthorizationForm are the
// two option sets in use, so those limits live in this package
// (SECURITY.md M1, M2, M6, Q2, D4).
//
// # Requests and failures
//
// The server middleware assigns each request an ID (AssignRequestID,
// WithRequestID); RequestID reads it back. RemoteIP is the peer address
// used as a rate-limit key. LogFailure logs a failed request once, with
// its request ID, at a level that fits the failure; a request whose
// client went away is logged at debug level only, since nothing failed on
// the server's side.
//
// # Responses
//
// WriteNoStoreJSON writes an already serialized JSON body with the
// headers of every token-endpoint style response (RFC 6749 §5.1), for a
// handler that serializes a hot response itself; others use
// oauth2.WriteJSON, which sets the same headers.
package endpoint
