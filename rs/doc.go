// Package rs protects the HTTP APIs of a resource server with Latchkey's
// JWT access tokens: net/http middleware that verifies every request's
// token locally, without calling introspection.
//
//	v, err := rs.New(rs.Options{
//		Issuer:   "https://auth.example.com/w/acme",
//		Audience: "https://api.example.com/orders",
//	})
//	mux.Handle("GET /orders", v.Require("orders:read")(listOrders))
//	mux.Handle("POST /orders", v.Require("orders:write")(createOrder))
//
// In a handler, [FromContext] returns the verified [Token].
//
// What is checked, in this order:
//
//   - The token comes in the Authorization header with the Bearer scheme
//     (RFC 6750 §2.1) or the DPoP scheme (RFC 9449 §7.1).
//   - It is a JWS signed with an algorithm of the allowlist
//     ([Options.Algorithms]; never "none" or a MAC) by a key of the
//     issuer's JWKS, found through the issuer's discovery document
//     (RFC 8414 §3, whose issuer must match exactly) and cached. A token
//     naming an unknown kid makes the verifier fetch the JWKS again, at
//     most once per [Options.RefetchInterval], so a key rotation is picked
//     up without a restart and a flood of forged kids costs one request;
//     the set is also refreshed every [Options.JWKSMaxAge].
//   - It is an RFC 9068 access token: header typ "at+jwt" (§2.1); iss
//     equals the issuer and aud contains the audience (§4); exp has not
//     passed and nbf has, with [Options.Leeway] of clock skew.
//   - Its scope claim holds every scope the route requires; otherwise 403
//     insufficient_scope (RFC 6750 §3.1).
//   - A token bound to a DPoP key (cnf.jkt, RFC 9449 §6) must come with
//     the DPoP scheme and a valid proof for this request, signed by that
//     key and carrying ath (§4.3, §7.1); replayed proofs are refused
//     (a jti cache in this process). An unbound token sent with the DPoP
//     scheme is refused too (§7.2).
//   - A token bound to a client certificate (cnf.x5t#S256, RFC 8705 §3)
//     must come over a TLS connection whose client certificate has that
//     SHA-256 thumbprint.
//   - A token with a status claim (IETF draft-ietf-oauth-status-list §6.2)
//     is looked up in the Status List Token it points to, which must be
//     under the issuer's URL, typ "statuslist+jwt", signed by the same
//     JWKS, with sub equal to the token's uri (§5.1). The list is cached
//     for its ttl and fetched again after; a token whose entry is not 0
//     (VALID, §7.1) is refused. When a list cannot be fetched the last one
//     is used until its exp, and then the request fails with 503.
//
// Failures answer 401 with WWW-Authenticate: Bearer error="invalid_token"
// (RFC 6750 §3), or with the DPoP challenge for the DPoP scheme and for
// DPoP-bound tokens (RFC 9449 §7.1); a request without a token gets the
// challenge without an error code (RFC 6750 §3.1). The body is the JSON
// error object; error descriptions never echo the token.
//
// Revocation reaches a resource server through the status list: Latchkey
// rebuilds a list at most 5 s after a revocation and publishes it with a
// ttl of 30 s, so a revoked token is refused at most about 35 s after it
// was revoked (README, "Token status lists").
package rs
