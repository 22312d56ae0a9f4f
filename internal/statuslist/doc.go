// Package statuslist implements the Token Status List (IETF
// draft-ietf-oauth-status-list, JWT form) for Latchkey's JWT access
// tokens:
//
//   - Allocator hands out status indexes. Indexes are reserved from the
//     database in blocks (one atomic upsert per block per process and
//     workspace), so issuing a token writes nothing per request.
//   - Claim builds the "status" claim of a Referenced Token (draft §6.1,
//     §6.2): {"status_list": {"idx": N, "uri": "<issuer>/statuslists/<list>"}}.
//     A workspace's global index i lives in list i / ListSize at position
//     i % ListSize.
//   - Package publish serves GET /w/{ws}/statuslists/{list}: a Status List Token
//     (draft §5.1: typ statuslist+jwt, sub, iat, exp, ttl, status_list with
//     bits 1 and lst the base64url of the ZLIB-compressed bit array of §4),
//     signed with the workspace key. Bit 1 is INVALID (draft §7.1). GET
//     /w/{ws}/statuslists is the Status List Aggregation (draft §9),
//     advertised in discovery as status_list_aggregation_endpoint.
//
// A list's set bits are read from storage when it is built: the indexes
// revoked directly (RFC 7009 revocation of the JWT), and the indexes of
// access tokens tied to a refresh-token family that is revoked, or that
// does not exist publish.OrphanGrace after the tie was written (a deleted user's
// families; the token endpoint writes the tie just before a new family).
//
// Freshness bound: each process rebuilds a list at most publish.RebuildInterval
// (default 5 s) after it last built it, and at once after a revocation
// handled by the same process (Invalidate). The token's ttl (default 30 s)
// and the response's Cache-Control max-age are equal, so a resource server
// that refetches after ttl sees a revocation at most RebuildInterval + TTL
// (35 s by default) after it was committed.
package statuslist
