// Package grants implements the token endpoint of a workspace,
// POST /w/{ws}/oauth2/token (RFC 6749 §3.2).
//
// Every request runs the same fixed pipeline, modelled on Dex's
// server/grants: the workspace is resolved by the endpoint middleware
// before the handler runs (endpoint.Workspaces), the form is parsed once
// (endpoint.ParseForm with endpoint.TokenForm: body only, size and
// parameter caps, no repeated parameters), the grant type is checked
// against the registry, the client is authenticated through clientauth
// (every grant, public clients too), the grant type is checked against the
// client's registration, and only then do the grant's own two steps run:
// parse reads its parameters into a typed request of its own
// (clientCredentialsRequest, authCodeRequest, refreshRequest,
// jwtBearerRequest), and issue authorizes that request and mints the
// tokens. A grant cannot skip a shared step: it receives an authenticated
// client and returns a token response or a protocol error, and only the
// endpoint writes HTTP (through writeTokenResponse, which writes the common
// success body without reflection and every other one with
// oauth2.WriteJSON, and oauth2.WriteError, so every response carries
// Cache-Control: no-store, RFC 6749 §5.1).
//
// The JWT bearer grant (RFC 7523, jwtbearer.go) also has an
// assertion-only shape, where a request carrying no client credentials at
// all names its client by the assertion's iss (RFC 7521 §4.1). clientauth
// identifies that client too, admitted only because the endpoint sets
// clientauth.Request.GrantAssertion for this grant alone; the grant then
// issues nothing unless the assertion verifies with that client's own
// certificates or keys, so the signature is the client's authentication.
//
// Each grant file declares the storage methods it uses as a small
// interface (clientCredentialsStore, authCodeStore, refreshStore,
// jwtBearerStore); Store joins them with workspace resolution and is all
// the handler can reach.
//
// Adding a grant is one new file holding its typed request, parse and
// issue functions plus one entry in the registry map (registry.go). Supported
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
