// Package clientauth is the one client authentication that the token,
// introspection and revocation endpoints share (SECURITY.md B11), so that
// every rule below holds everywhere:
//
//   - RFC 6749 §2.3: a request uses at most one method; two is
//     invalid_request (B10). client_secret_basic decodes the form-urlencoded
//     id and secret of §2.3.1 (D5) and also accepts raw values;
//     client_secret_post reads the POST body only.
//   - RFC 7523 §2.2/§3 and OIDC Core §9: client_secret_jwt and
//     private_key_jwt assertions, parsed by package jwtx with an algorithm
//     allowlist, iss = sub = client_id (B1), aud = the workspace issuer or
//     its token endpoint (only the issuer, as one string, in strict mode;
//     B4), bounded lifetime (B5), 60 s skew (B6), jti required and recorded
//     as used only after signature and claims passed (B7, B8).
//   - A client may only use the method it registered (B10), within the
//     methods its workspace allows.
//   - Unknown clients and wrong secrets answer identically and do the same
//     decryption work (D2); secrets are compared in constant time (D3).
//   - Failed attempts are budgeted per client and per remote address; over
//     budget the answer is 429 with Retry-After (M7, N1).
//   - The JWT bearer grant's assertion-only shape (RFC 7521 §4.1), where a
//     request without credentials names its client by the grant
//     assertion's iss, is identified here too, so that client
//     authentication happens in one place; only a Request whose
//     GrantAssertion is set (the token endpoint, for that grant alone)
//     admits it, and a client_id equal to the iss is no credential.
//
// It reads storage through ClientStore: the client lookup and the
// single-use jti gate.
//
// Error descriptions stay generic while the caller has proven nothing
// ("client authentication failed"); precise ones ("assertion expired",
// "client is registered for private_key_jwt") appear once the client is
// identified and the method is legitimate for it. The detail of every
// failure is logged at debug level, never with secrets.
package clientauth
