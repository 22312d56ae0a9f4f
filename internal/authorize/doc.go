// Package authorize implements the authorization endpoint of the
// authorization code flow (RFC 6749 §4.1, OpenID Connect Core §3.1) at
// GET and POST /w/{ws}/oauth2/authorize, the consent page at GET and POST
// /w/{ws}/consent, and the authorization response in the query, fragment
// and form_post response modes, always with "iss" (RFC 9207).
//
// # Flow
//
// The endpoint validates the request in the order RFC 6749 §4.1.2.1
// prescribes: until client_id and redirect_uri are known to be good, an
// error is an HTML error page and never a redirect (SECURITY.md E1, E2,
// E4); after that, errors are redirected to the client with error, state
// and iss (E5, E6). A valid request is stored server-side as a pending
// storage.AuthRequest bound to the browser (the SHA-256 of its
// lk_b cookie, "__Host-lk_b" on https, see package webui; E15), and the browser is sent
// with 303 to /login?request_id=ID, or to /consent?request_id=ID when it
// is already signed in, or straight back to the client when nothing needs
// asking (a trusted client, or a remembered consent covering the scopes).
//
// /consent decides again on every visit (the sign-in may have happened in
// between): prompt=login, max_age and id_token_hint can require a fresh
// sign-in (OIDC Core §3.1.2.1, E14), prompt=none turns every interaction
// into login_required or consent_required, and consent is asked unless the
// client is trusted or the user already granted every requested scope.
// Completing deletes the pending request (the single-use gate), stores an
// authorization code (only its hash, 60 seconds, SECURITY.md G5, G8) and
// answers in the request's response mode.
//
// Request objects (RFC 9101) are verified with the client's registered
// keys, optionally decrypted with the workspace's encryption key, and
// only their parameters count (jar.go, jwe.go); request_uri is accepted
// only from the PAR endpoint POST /w/{ws}/oauth2/par (RFC 9126, par.go),
// every other one is request_uri_not_supported and never fetched. JARM's
// response modes (jwt, query.jwt, fragment.jwt, form_post.jwt) answer
// with one signed, optionally encrypted, JWT (jarm.go). PKCE is S256 only, required for public clients and for clients that
// require it (the default), SECURITY.md F1–F3.
package authorize
