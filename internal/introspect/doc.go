// Package introspect implements token introspection (RFC 7662) at
// POST /w/{ws}/oauth2/introspect and token revocation (RFC 7009) at
// POST /w/{ws}/oauth2/revoke, for the RFC 9068 JWT access tokens that the
// token endpoint issues.
//
// Both endpoints share the token endpoint's workspace resolution and
// request hygiene (package endpoint: ParseForm with TokenForm, form body
// only, 64 KiB cap, no repeated parameters) and its client
// authentication: an unauthenticated caller gets 401 invalid_client
// (RFC 7662 §2.1, SECURITY.md I1).
//
// # Introspection policy (RFC 7662 §2.2, SECURITY.md I2, I3)
//
// A token is active only when all of these hold: it verifies against the
// workspace's published keys and issuer (another workspace's token fails
// here, J3), it has not expired, its jti is not revoked, the client it was
// issued to still exists, is enabled and was not (re)created after the
// token was issued (O2, O3), and the caller is allowed to see it. RFC 7662
// leaves that last policy to the server; Latchkey allows:
//
//   - the client the token was issued to (caller client_id == token client_id);
//   - a confidential resource server whose client_id equals one of the
//     token's aud values;
//   - a confidential client whose metadata sets "latchkey.introspect" to
//     "all" (an API gateway of the workspace).
//
// A public client proves nothing but its client_id, so it may not
// introspect at all (RFC 7662 §2.1: the endpoint "MUST also require some
// form of authorization"); it may revoke its own tokens (RFC 7009 §2.1).
//
// Any other caller learns only {"active":false}, exactly as for an unknown
// token, so introspection is no oracle for other clients' tokens. Inactive
// answers never carry any other member (I2). token_type_hint is ignored:
// refresh tokens are told apart by their "lkrt_" prefix, and a hint may not
// change the answer (I4).
//
// # Refresh tokens and token families
//
// Refresh tokens are opaque and looked up by hash; only the client they
// were issued to sees them active, and only the current generation of a
// live family is active. Access tokens of the code flow carry their
// family in "rtf"; a revoked family makes them inactive. Revoking a
// refresh token revokes its whole family (RFC 7009 §2.1), so the access
// tokens issued from the same grant become inactive too.
//
// # Opaque access tokens
//
// A client set to the opaque access token format gets "lkat_" reference
// tokens. Introspection looks them up by hash (never cached) and answers
// exactly what it would for the JWT with the same claims, with the same
// caller policy and checks; revoking one deletes its row, so every process
// answers inactive at once.
//
// # Revocation (RFC 7009)
//
// The caller may revoke only tokens issued to itself (RFC 7009 §2.1). A
// valid token of another client is refused with 400 unauthorized_client
// and left active (SECURITY.md I6). Garbage, expired and unknown tokens are
// 200 (RFC 7009 §2.2, I5). token_type_hint is only a hint: every token is
// looked up by its form (refresh tokens by prefix, access tokens as JWTs)
// whatever the hint says, and anything else is an invalid token (200), so
// unsupported_token_type is never needed (I9). The revocation mark is
// written to the shared database and kept until the token would have
// expired, so every process sharing it answers inactive at once; a storage
// failure answers 503 temporarily_unavailable, never 200 (I8).
package introspect
