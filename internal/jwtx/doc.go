// Package jwtx parses and verifies JWTs that Latchkey receives from the
// outside (client assertions per RFC 7523 §2.2, later JWT-bearer grant
// assertions per RFC 7523 §2.1).
//
// Every incoming token is attacker input, so processing runs in three strict
// stages (RFC 8725 §3, SECURITY.md group A):
//
//  1. Parse: structural checks before any cryptography — a size cap before
//     anything is split (A16), exactly the compact serialization with two
//     dots and only base64url characters (A9, A10), strict unpadded base64url
//     (A12), JSON objects without duplicate member names at any depth (A11),
//     an "alg" from the caller's allowlist and never "none" (A1, A2), no
//     "crit" (A8), no key-carrying or key-locating headers jku, x5u, jwk, x5c
//     (A6, A7), and strictly typed registered claims (A17).
//  2. Verify / VerifyHMAC: the signature, with a key chosen only from the
//     key set the caller passes in (A4), whose type fits the algorithm so a
//     public key can never act as an HMAC secret (A3).
//  3. Validate: the claims — but only after a signature check succeeded, so
//     an "expired" result can never stand in for "authentic" (A13).
//
// Every error is an *Error that matches one of the exported sentinels with
// errors.Is. Describe returns its public description, a fixed sentence
// written for the developer who built the token ("assertion expired",
// "header member 'jku' is not allowed"), which callers send as the
// error_description of invalid_client or invalid_grant. What exactly was
// found (a member name, a kid, a decoder message) is token content: it is
// only in Error(), which callers log with the request ID.
package jwtx
