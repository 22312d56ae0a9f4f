// Package fapi holds the rule set of the per-workspace FAPI 2.0 switch
// (storage.WorkspaceSettings.FAPIProfile): the FAPI 2.0 Security Profile
// ("fapi2-security") and, on top of it, FAPI 2.0 Message Signing
// ("fapi2-message-signing"). The rules are enforced together by small
// checks that the other packages call:
//
//   - service (registration and update of clients, DCR included; turning
//     the profile on): CheckWorkspace, CheckClient;
//   - authorize (PAR and authorization endpoints): CheckAuthorization,
//     CodeTTL;
//   - clientauth (token, PAR, introspection, revocation): CheckAuthMethod,
//     CheckAssertionAlg, StrictAudience;
//   - grants (token endpoint): CheckTokenRequest;
//   - discovery: the advertised lists (Algs, AuthMethods).
//
// The rules, each with the section of the specification it implements
// (FAPI 2.0 Security Profile, final, "SP"; FAPI 2.0 Message Signing,
// final, "MS"); docs/fapi.md names the test that proves each:
//
//   - SP §5.3.2.2: PAR is required for every authorization request
//     (RFC 9126 §5 require_pushed_authorization_requests).
//   - SP §5.3.2.2: request_uri only from the PAR endpoint
//     (request_uri_not_supported otherwise).
//   - SP §5.3.2.2, RFC 7636: PKCE with S256 only; plain refused.
//   - SP §5.3.2.2: the redirect_uri is sent in the pushed request and
//     matches a pre-registered URI exactly (Latchkey always compares
//     exactly, RFC 9700 §4.1.3).
//   - SP §5.3.2.2: iss in authorization responses (RFC 9207; Latchkey
//     always adds it).
//   - SP §5.3.2.1: response_type=code only.
//   - SP §5.3.2.1: authorization codes live at most 60 seconds.
//   - SP §5.3.2.1, §5.3.3: confidential clients only, authenticating
//     with private_key_jwt, tls_client_auth or self_signed_tls_client_auth;
//     public clients and other methods are refused.
//   - SP §5.3.2.1, RFC 7523bis: the aud of a client assertion is the
//     issuer identifier, as a single string, and nothing else.
//   - SP §5.3.2.1: only sender-constrained access tokens: every token
//     request carries a DPoP proof (RFC 9449) or is made over mutual TLS
//     by a client with certificate-bound tokens (RFC 8705).
//   - SP §5.4.1: algorithms PS256, ES256 and EdDSA only (request objects,
//     client assertions, DPoP proofs at the token endpoint, ID tokens,
//     JARM and the workspace's own signing key); RSA keys of at least 2048
//     bits, elliptic curve keys of at least 224 bits.
//   - MS §5.3 (JAR via PAR): the pushed request is a signed request
//     object (RFC 9101); unsigned pushed parameters are refused.
//   - MS §5.4 (JARM): authorization responses are JWT secured (response
//     mode jwt, query.jwt, fragment.jwt or form_post.jwt); JARM is chosen
//     over the detached-signature ID token because it also protects error
//     responses and responses without an ID token.
//
// Refresh token rotation is neither required nor refused (SP §5.3.2.1
// discourages it, the workspace's refresh settings stay in force);
// public clients do not exist under the profile, so their refresh tokens
// are not an issue.
//
// Turning the profile on for a workspace whose clients break a rule is
// refused with the list of offending clients (the safer choice: no client
// is silently broken at runtime); clients registered concurrently are
// still refused at runtime by the same checks.
package fapi
