// Package oidc implements the OpenID Connect parts of Latchkey on top of
// the authorization code flow: ID tokens (OIDC Core §2, §3.1.3.6),
// standard claims and the claims request parameter (§5.1, §5.4, §5.5),
// pairwise subject identifiers (§8.1, OIDC Registration §5 sector
// identifiers), the UserInfo endpoint (§5.3) at GET and POST
// /w/{ws}/oauth2/userinfo, and RP-initiated logout (OpenID Connect
// RP-Initiated Logout 1.0) at GET and POST /w/{ws}/oauth2/logout.
//
// # Subjects
//
// A client's subject format (Subjects.Subject) is the user ID (the
// default: stable), the username or the e-mail address (public subjects
// that change when the user is renamed), or pairwise: sub is
// base64url(SHA-256(sector || 0 || user ID || 0 || salt)) where the
// sector is the host of the client's sector_identifier_uri, or else the
// host of its redirect URIs (which the service layer requires to be one
// host), and the salt is a random per-workspace secret kept in the
// database. Two clients of different sectors cannot correlate a user, and
// nobody who only knows user IDs can compute a pairwise sub.
//
// # Users behind access tokens
//
// Access tokens from the code flow carry the claim "rtf": the ID of their
// token family (storage.TokenFamily). UserInfo finds the user through it
// (the sub may be pairwise), and refuses the token when the family was
// revoked (code reuse, refresh token reuse, consent revoked), so such
// tokens stop working at once (SECURITY.md G1, H1).
package oidc
