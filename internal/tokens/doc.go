// Package tokens mints and verifies Latchkey's access tokens: JWTs in the
// RFC 9068 profile ("JSON Web Token (JWT) Profile for OAuth 2.0 Access
// Tokens").
//
// A token carries the JOSE header {alg, kid, typ: "at+jwt"} (RFC 9068 §2.1)
// and the claims iss, sub, aud, client_id, scope, jti, iat and exp
// (RFC 9068 §2.2), plus any extra claims a grant adds. aud is a single
// string when the token has one audience and an array otherwise (RFC 7519
// §4.1.3 allows both; most resource servers expect the string form).
//
// Mint is on the hot path of the token endpoint (every client_credentials
// request), so it writes the claims once into a pooled buffer and signs
// with a cached signer (package signing). Claims whose strings are plain
// printable ASCII and that carry no extra claims are appended without
// reflection; anything else goes through encoding/json, and a test and a
// fuzz target hold the two to the same bytes.
//
// Verify is for our own tokens (introspection, revocation): it accepts only
// the algorithms a workspace can sign with (RFC 8725 §3.1), requires typ
// at+jwt (RFC 9068 §4, RFC 8725 §3.11), a kid found in the workspace's
// published keys whose type and alg fit the header alg, a valid signature,
// iss equal to the workspace issuer and exp in the future. It does not
// check revocation; callers do, with the jti.
//
// A client may ask for opaque access tokens instead (opaque.go): an
// "lkat_" prefix and 256 random bits, whose SHA-256 keys a stored row
// holding exactly the claims the JWT would carry. NewOpaque makes one from
// the same AccessToken content Mint signs, and ResolveOpaque turns the row
// back into that content for introspection and UserInfo, reading the
// database on every call so that revocation (deleting the row) is
// immediate on every process.
package tokens
