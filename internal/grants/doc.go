// Package grants implements the token endpoint of a workspace,
// POST /w/{ws}/oauth2/token (RFC 6749 §3.2).
//
// Every request runs the same fixed pipeline, modelled on Dex's
// server/grants: the workspace is resolved by the endpoint middleware
// before the handler runs (endpoint.Workspaces), the form is parsed once
// (endpoint.ParseForm with endpoint.TokenForm: body only, size and
// parameter caps, no repeated parameters) into a typed request, the grant
// type is checked against the registry,
// the client is authenticated through clientauth (every grant, public
// clients too), the grant type is checked against the client's
// registration, and only then does the grant-specific function run. A grant
// cannot skip a shared step: it receives an authenticated client and
// returns a token response or a protocol error, and only the endpoint
// writes HTTP (through oauth2.WriteJSON / oauth2.WriteError, so every
// response carries Cache-Control: no-store, RFC 6749 §5.1).
//
// One exception is narrow and explicit: the JWT bearer grant (RFC 7523,
// jwtbearer.go) in its assertion-only shape, where a request carrying no
// client credentials at all names its client by the assertion's iss
// (RFC 7521 §4.1). The pipeline then only identifies the client; the grant
// issues nothing unless the assertion verifies with that client's own
// certificates or keys, so the signature is the client's authentication.
// Any request with credentials, and every other grant, goes through
// clientauth as always.
//
// Adding a grant is one new file holding a function with the grantFunc
// signature plus one entry in the registry map (registry.go). Supported
// reports the registry, and discovery advertises exactly that list, so what
// is advertised is what is accepted (SECURITY.md P1).
//
// The JWT bearer grant writes once per token: its jti (or the assertion's
// hash) in the replay store, after every check passed. Only a client that
// enables refresh tokens for the grant (and may use the refresh_token
// grant) gets a second write: a new token family with its first refresh
// token, recorded after the jti was spent so that a replayed assertion
// never creates one (jwtbearer_refresh.go). Its tokens are minted like
// the code flow's, so the refresh_token grant redeems them unchanged.
//
// The client_credentials path performs no database write: the workspace,
// client and scopes come from the cached store and the signer keeps its
// key in memory.
package grants
