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
// The rules, each with the clause of the specification it implements
// (FAPI 2.0 Security Profile, final, "SP"; FAPI 2.0 Message Signing,
// "MS"; section and list item numbers as in the published text, checked
// against the openid/fapi sources); docs/fapi.md names the test that
// proves each:
//
//   - SP §5.3.2.1 item 1: discovery metadata advertises what is accepted.
//   - SP §5.3.2.1 item 3: confidential clients only.
//   - SP §5.3.2.1 items 4 and 5: only sender-constrained access tokens:
//     every token request carries a DPoP proof (RFC 9449) or is made over
//     mutual TLS by a client with certificate-bound tokens (RFC 8705).
//   - SP §5.3.2.1 item 6 (clients: §5.3.3.1 item 2): client
//     authentication with private_key_jwt, tls_client_auth or
//     self_signed_tls_client_auth only.
//   - SP §5.3.2.1 item 8: the aud of a client assertion is the issuer
//     identifier, as a single string, and nothing else.
//   - SP §5.3.2.1 item 11: authorization codes live at most 60 seconds.
//   - SP §5.3.2.1 item 12: authorization codes bound to the DPoP key
//     (dpop_jkt, RFC 9449 §10.1; always supported).
//   - SP §5.3.2.2 item 1: response_type=code only.
//   - SP §5.3.2.2 items 2 to 4: PAR, with client authentication, for
//     every authorization request (RFC 9126 §5
//     require_pushed_authorization_requests); request_uri only from the
//     PAR endpoint (request_uri_not_supported otherwise).
//   - SP §5.3.2.2 item 5, RFC 7636: PKCE with S256 only; plain refused.
//   - SP §5.3.2.2 item 6: the redirect_uri is sent in the pushed request
//     (Latchkey compares it exactly with a registered one, RFC 9700
//     §4.1.3).
//   - SP §5.3.2.2 item 7: iss in authorization responses (RFC 9207;
//     Latchkey always adds it).
//   - SP §5.3.2.2 item 8: plain http redirect URIs only for native
//     clients on a loopback address.
//   - SP §5.3.2.2 item 12: request_uri lifetimes (expires_in) below 600
//     seconds.
//   - SP §5.4.1 item 1: algorithms PS256, ES256 and EdDSA only (request
//     objects, client assertions, DPoP proofs at the token endpoint, ID
//     tokens, JARM and the workspace's own signing key); items 2 and 3:
//     RSA keys of at least 2048 bits, elliptic curve keys of at least 224
//     bits.
//   - MS §5.3.1 item 1: the pushed request is a signed request object
//     (RFC 9101); unsigned pushed parameters are refused. Items 3 and 4:
//     the request object carries nbf, at most 60 minutes in the past, and
//     exp at most 60 minutes after it.
//   - MS §5.4.1 item 1: authorization responses are JWT secured (response
//     mode jwt, query.jwt, fragment.jwt or form_post.jwt); JARM is chosen
//     over the detached-signature ID token because it also protects error
//     responses and responses without an ID token.
//
// Refresh tokens are not rotated under the profile (SP §5.3.2.1 item 9)
// unless the client asks for rotation with a grace period, the
// "time-limited option to retry with the old refresh token" of its Note
// 1 (RotateRefresh); asking for rotation without one is refused at
// registration. Public clients, which must rotate (RFC 9700 §2.2.2), do
// not exist under the profile.
//
// Turning the profile on for a workspace whose clients break a rule is
// refused with the list of offending clients (the safer choice: no client
// is silently broken at runtime); clients registered concurrently are
// still refused at runtime by the same checks.
package fapi
