package clientauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/fapi"
	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/ssrf"
	"github.com/latchkey/latchkey/internal/storage"
)

// assertionAlgs is the parse-time allowlist: every algorithm either
// assertion method may use. Which one is acceptable for a given client is
// decided once the client is known (method binding, pinned alg).
var assertionAlgs = slices.Concat(oauth2.AsymmetricVerifyAlgs, oauth2.HMACVerifyAlgs)

// rejectTypes are JOSE "typ" values of other JWTs that must never pass as a
// client assertion (RFC 8725 §3.11, SECURITY.md A14): our access tokens,
// DPoP proofs, request objects, logout tokens, security events, signed
// introspection responses.
var rejectTypes = []string{
	oauth2.AccessTokenJWTType, "dpop+jwt", "oauth-authz-req+jwt", "logout+jwt",
	"secevent+jwt", "token-introspection+jwt", "jwt-bearer+jwt",
}

// maxJTILength bounds what is written to the replay store.
const maxJTILength = 256

// maxInlineKeys caps inline key sets as remote ones are capped.
const maxInlineKeys = ssrf.DefaultMaxKeys

// authenticateAssertion implements client_secret_jwt and private_key_jwt
// (RFC 7523 §2.2 and §3, OIDC Core §9). Order matters: structure, then the
// client and its method, then the signature, then the claims, and only then
// the jti is spent (B8), so a forged assertion can never burn a genuine jti.
func (a *Authenticator) authenticateAssertion(ctx context.Context, r Request, c credentials, attempted *string) (Result, error) {
	tok, err := jwtx.Parse(c.assertion, assertionAlgs, jwtx.DefaultMaxSize)
	if err != nil {
		// The public sentence only: the detail quotes the token and goes
		// to the log as the cause.
		return Result{}, invalidClient("client assertion is invalid: "+jwtx.Describe(err), err)
	}
	id := assertionClientID(c, tok)
	*attempted = id
	if c.formClientID != "" && tok.Claims.Subject != c.formClientID {
		return Result{}, invalidClient("client_id does not match the assertion subject", errIDMismatch)
	}
	client, method, err := a.assertionClient(ctx, r.Workspace, id, tok.Header.Alg)
	if err != nil {
		return Result{}, err
	}
	if err := a.verifyAssertion(ctx, r.Workspace.ID, client, method, tok); err != nil {
		return Result{}, err
	}
	if err := a.validateAssertion(r, client, tok); err != nil {
		return Result{}, err
	}
	if err := a.spendJTI(ctx, r.Workspace.ID, client.ID, tok); err != nil {
		return Result{}, err
	}
	return Result{Client: client, Method: method}, nil
}

// assertionClientID: client_id when sent (RFC 7521 §4.2 lets it be
// omitted), else the subject, which RFC 7523 §3 item 2 makes the client ID.
func assertionClientID(c credentials, tok *jwtx.Token) string {
	if c.formClientID != "" {
		return c.formClientID
	}
	return tok.Claims.Subject
}

// assertionClient looks the client up and binds the method: an HMAC alg
// means client_secret_jwt, anything else private_key_jwt, and the client
// must be registered for exactly that (B10) and, when it pinned an alg, use
// it (RFC 7591 §2 token_endpoint_auth_signing_alg; A2).
func (a *Authenticator) assertionClient(ctx context.Context, ws storage.Workspace, id, alg string) (storage.Client, string, error) {
	client, err := a.lookup(ctx, ws.ID, []string{id})
	if err != nil {
		return storage.Client{}, "", err
	}
	method := oauth2.AuthPrivateKeyJWT
	if jwtx.IsHMAC(alg) {
		method = oauth2.AuthClientSecretJWT
	}
	if err := a.checkClient(ws, client, method); err != nil {
		return storage.Client{}, "", err
	}
	if pinned := client.TokenEndpointAuthSigningAlg; pinned != "" && pinned != alg {
		return storage.Client{}, "", invalidClient("assertion algorithm "+alg+" is not allowed for this client", errMethodMismatch)
	}
	if msg := fapi.CheckAssertionAlg(ws, alg); msg != "" { // FAPI 2.0 Security Profile §5.4.1 item 1
		return storage.Client{}, "", invalidClient(msg, errMethodMismatch)
	}
	return client, method, nil
}

// verifyAssertion checks the signature. Failures stay generic: the caller
// has not proven anything yet (and L6: a failing jwks_uri must not leak
// network detail).
func (a *Authenticator) verifyAssertion(ctx context.Context, wsID string, client storage.Client, method string, tok *jwtx.Token) error {
	if method == oauth2.AuthClientSecretJWT {
		return a.verifyHMACAssertion(wsID, client, tok)
	}
	// The registered JWKS, then the uploaded certificates (certkeys.go).
	err := a.verifyClientJWT(ctx, client, tok)
	var unavailable *oauth2.Error
	if errors.As(err, &unavailable) && unavailable.Code == oauth2.ErrTemporarilyUnavailable {
		return unavailable
	}
	if err != nil {
		return failed(err)
	}
	return nil
}

// verifyHMACAssertion keys the HMAC with the client secret only, never with
// a public key (A3).
func (a *Authenticator) verifyHMACAssertion(wsID string, client storage.Client, tok *jwtx.Token) error {
	if len(client.SecretCiphertext) == 0 {
		return failed(errNoSecret)
	}
	secret, err := a.decryptSecret(wsID, client)
	if err != nil {
		return err
	}
	defer clear(secret)
	if err := tok.VerifyHMAC(secret); err != nil {
		return secretGuess{failed(err)} // budget: an HMAC key can be guessed
	}
	return a.checkSecretExpiry(client)
}

// clientKeys returns the client's registered public keys: inline when set,
// else from its jwks_uri through the SSRF-safe cache. remote reports the
// latter.
func (a *Authenticator) clientKeys(ctx context.Context, client storage.Client) (keys []jose.JSONWebKey, remote bool, err error) {
	if len(client.JWKS) > 0 {
		set, err := ssrf.ParseJWKS(client.JWKS, maxInlineKeys)
		return set.Keys, false, err
	}
	if client.JWKSURI == "" {
		return nil, false, errNoKeys
	}
	if a.JWKS == nil {
		return nil, true, errNoJWKSCache
	}
	set, err := a.JWKS.Get(ctx, client.JWKSURI)
	return set.Keys, true, err
}

// validateAssertion checks the claims (RFC 7523 §3). The signature has been
// verified, so saying which claim failed now tells the caller nothing it
// could not learn by signing; the detail still goes only to the log.
func (a *Authenticator) validateAssertion(r Request, client storage.Client, tok *jwtx.Token) error {
	if err := tok.Validate(a.expected(r, client.ID)); err != nil {
		return invalidClient(assertionProblem(err), err)
	}
	if len(tok.Claims.JTI) > maxJTILength {
		return invalidClient("assertion jti is too long", jwtx.ErrNoJTI)
	}
	return nil
}

// expected builds the claim expectations: iss = sub = client_id (B1); aud
// the issuer, or in compat mode also the token endpoint, the endpoint
// being called and arrays (B4);
// exp required with a bounded lifetime (B5); 60 s skew (B6); jti required
// (B7); other JWT types refused (A14).
func (a *Authenticator) expected(r Request, clientID string) jwtx.Expected {
	// FAPI 2.0 Security Profile §5.3.2.1 item 8: the issuer only, as a string (package fapi).
	strict := fapi.StrictAudience(r.Workspace)
	audiences := []string{r.Issuer}
	if !strict {
		for _, u := range []string{r.TokenEndpoint, r.Endpoint} {
			if u != "" && !slices.Contains(audiences, u) {
				audiences = append(audiences, u)
			}
		}
	}
	lifetime := r.Workspace.Settings.MaxAssertionLifetime
	if lifetime <= 0 {
		lifetime = DefaultMaxAssertionLifetime
	}
	return jwtx.Expected{
		Issuer: clientID, Subject: clientID,
		Audiences: audiences, AudienceSingleString: strict,
		Now: a.now(), Skew: Skew, MaxLifetime: lifetime,
		RequireJTI: true, RequireExp: true,
		RejectTypes: rejectTypes,
	}
}

// assertionProblem is the public description of a claim check failure. A
// lifetime over the bound names both numbers and says whose bound it is,
// so the client's developer knows what to change.
func assertionProblem(err error) string {
	var le *jwtx.LifetimeError
	if errors.As(err, &le) {
		return fmt.Sprintf("assertion lifetime %d s exceeds this workspace's maximum of %d s",
			int64(le.Lifetime/time.Second), int64(le.Max/time.Second))
	}
	return jwtx.Describe(err)
}

// spendJTI records the jti as used, atomically across processes (B7;
// reliability invariant 4). It is kept until exp + skew, after which
// Validate refuses the assertion anyway.
func (a *Authenticator) spendJTI(ctx context.Context, wsID, clientID string, tok *jwtx.Token) error {
	err := a.Store.UseJTI(ctx, storage.JTI{
		WorkspaceID: wsID,
		Namespace:   JTINamespace,
		Issuer:      clientID,
		JTI:         tok.Claims.JTI,
		ExpiresAt:   tok.Claims.Expiry.Add(Skew),
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrAlreadyExists):
		return invalidClient("assertion has already been used", errReplay)
	default:
		return serverError(err)
	}
}
