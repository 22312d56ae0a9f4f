// Package dpop implements OAuth 2.0 Demonstrating Proof of Possession
// (RFC 9449) for the authorization server and its own protected resource
// (UserInfo): it parses and verifies DPoP proof JWTs, computes the RFC 7638
// JWK thumbprint tokens are bound to (cnf.jkt, RFC 9449 §6), issues and
// checks stateless server nonces (§8, §9), and writes the DPoP
// authentication challenge (§7.1).
//
// # Proof checking (RFC 9449 §4.3)
//
// Verifier.Verify runs every check of §4.3 in this order, so that nothing
// costly or stateful happens before the cheap structural checks pass:
//
//  1. exactly one DPoP header, at most MaxProofSize bytes, JWS compact
//     serialization only (three strict base64url parts: SECURITY.md A9,
//     A12, A16, S4);
//  2. header and claim set are single JSON objects without duplicate
//     members (A11); typ is exactly "dpop+jwt" (§4.2, S1); alg is on the
//     allowlist and asymmetric (§4.2, S2); jwk is present, public, of an
//     acceptable size and fits alg; kid, jku, x5u, x5c, x5t, x5t#S256,
//     crit, b64 and the JWE members are refused, so the key comes from
//     jwk alone (§4.2, S3); any other (extension) member is ignored, as
//     RFC 7515 §4 requires of members not understood;
//  3. the signature over the parts as received verifies with that jwk
//     under the one header alg (go-jose decodes the key; crypto/ecdsa,
//     crypto/rsa or crypto/ed25519 check the signature: signature.go);
//  4. jti, htm, htu and iat are present and strictly typed; htm equals
//     the request method and htu the request URI, both compared after
//     RFC 3986 §6.2.2/§6.2.3 normalisation and without query or fragment
//     (§4.3 checks 8–9, S5); iat is within [now-MaxAge, now+MaxFuture]
//     (§4.3 check 11, §11.1, S6);
//  5. with an access token presented, ath equals the base64url SHA-256
//     of it (§4.3 check 12, §7, S9); with server nonces on, nonce is one
//     we issued that has not expired (§8, §9, S8);
//  6. last, the jti is spent in the shared replay store (storage UseJTI,
//     namespace "dpop", keyed by workspace, thumbprint and htu, kept for
//     the acceptance window): one atomic insert, so a replay is refused
//     on every process (§11.1, S7). A proof failing any earlier check
//     never burns a jti (B8).
//
// Errors are *oauth2.Error values with the code invalid_dpop_proof (§5,
// §7.1) or use_dpop_nonce (§8, §9) and a description written for the
// developer; the failing detail goes to Cause, for logs only. The proof
// itself, and its key, are never logged.
//
// # Nonces
//
// A nonce is a time bucket and an HMAC-SHA256 of the workspace and that
// bucket under a secret derived from the master keyring
// (secrets.Keyring.DeriveSecret). Every process computes the same nonce for
// the same bucket without a write, so a nonce issued by one process is
// accepted by another; it cannot be predicted without the master key, and
// it expires after NonceLifetime. Rotating the master key invalidates the
// outstanding nonces: clients retry once with the fresh DPoP-Nonce, as §8
// provides.
package dpop
