// Package dcr implements OAuth 2.0 Dynamic Client Registration (RFC 7591)
// and its management protocol (RFC 7592) for each workspace:
//
//	POST            {issuer}/oauth2/register              (initial access token)
//	GET|PUT|DELETE  {issuer}/oauth2/register/{client_id}  (registration access token)
//
// Registration is guarded by an initial access token that the admin API
// issues ("lki_..."; RFC 7591 §3). Authenticating with it spends nothing;
// a successful registration spends one use in the transaction that
// inserts the client, so a refused registration leaves the token as it
// was. The token carries a registration policy (allowed grant types,
// scopes, auth methods, application types, redirect URI patterns, and
// whether grants that issue tokens for users are allowed at all);
// registrations and RFC 7592 updates outside it answer 400
// invalid_client_metadata (invalid_redirect_uri for redirect URIs). The
// client keeps a snapshot of the policy, so deleting the token never
// frees it.
// A registered client gets a registration access token ("lkr_...", 256
// random bits, stored as a SHA-256 hash) for the RFC 7592 endpoints. Every
// successful read and update answers with a new one (RFC 7592 §3: the
// response carries the token, and only its hash is kept) and the presented
// one stops working at once: the rotation is a conditional update of the
// client row in the database (rotation.go). Requests without an
// Authorization header get the bare Bearer challenge (RFC 6750 §3.1).
//
// Client metadata is mapped onto service.CreateClient, so registered
// clients obey exactly the rules of the admin API (redirect URI hygiene,
// JWKS key strength, SSRF-checked jwks_uri, application type rules, ...).
// application_type (OpenID Connect Registration §2) defaults to "web";
// "native" and "spa" (public) default token_endpoint_auth_method to
// "none"; "service" is also accepted. access_token_format ("jwt", the
// default, or "opaque") is Latchkey metadata. The OpenID Connect metadata
// a client keeps (subject_type, sector_identifier_uri,
// post_logout_redirect_uris, id_token_signed_response_alg,
// require_auth_time) is stored and returned; metadata asking for what
// Latchkey does not do (signed or encrypted UserInfo, encrypted ID
// tokens, default_max_age) and the mutual TLS metadata of a server
// without mutual TLS are refused with invalid_client_metadata (oidc.go,
// mtls.go). Other unknown metadata is ignored (RFC 7591 §2).
package dcr
