package grants

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/ssrf"
	"github.com/latchkey/latchkey/internal/storage"
)

// JWTBearerJTINamespace separates JWT bearer grant jti values from client
// assertion ones in the replay store (SECURITY.md B8).
const JWTBearerJTINamespace = "jwt_bearer"

// DefaultMaxAssertionLifetime bounds exp-iat and exp-now of grant
// assertions when neither the client nor the trusted issuer sets a bound.
// 60 minutes lets golang.org/x/oauth2/jwt's defaults (exp = iat + 1h) work.
const DefaultMaxAssertionLifetime = 60 * time.Minute

// maxBearerAssertionSize caps the assertion before any parsing (A16).
const maxBearerAssertionSize = jwtx.DefaultMaxSize

// maxJTILength bounds what is written to the replay store.
const maxJTILength = 256

// bearerAlgs is the parse-time allowlist: the asymmetric algorithms and
// HS256, which is accepted only for a client that allows it and only keyed
// by its secret (A3, C4).
var bearerAlgs = slices.Concat(oauth2.AsymmetricVerifyAlgs, []string{"HS256"})

// bearerRejectTypes are JOSE typ values of other JWTs that must never pass
// as a grant assertion (RFC 8725 §3.11, A14).
var bearerRejectTypes = []string{
	oauth2.AccessTokenJWTType, "dpop+jwt", "oauth-authz-req+jwt", "logout+jwt",
	"secevent+jwt", "token-introspection+jwt", "client-authentication+jwt",
}

// bearerRejectTypes minus at+jwt: an access token of another issuer that
// the workspace trusts is the assertion of the CMiC guide (an identity
// provider's client_credentials token naming a service user in a claim),
// and its aud must name the audience configured for that issuer. Our own
// access tokens stay refused: the workspace's own issuer never gets this
// list (A14).
var trustedIssuerRejectTypes = slices.DeleteFunc(slices.Clone(bearerRejectTypes),
	func(t string) bool { return t == oauth2.AccessTokenJWTType })

func bearerRejectTypesFor(req *request, src assertionSource) []string {
	if src.issuer != nil && src.issuer.Issuer != req.issuer {
		return trustedIssuerRejectTypes
	}
	return bearerRejectTypes
}

// SecretOpener decrypts client secrets (*secrets.Keyring implements it).
type SecretOpener interface {
	Decrypt(ciphertext, aad []byte) ([]byte, error)
}

// JWTBearerDeps are the dependencies only the JWT bearer grant needs.
type JWTBearerDeps struct {
	// Secrets decrypts client secrets for HS256 assertions (nil: HS256 is refused).
	Secrets SecretOpener
	// JWKS fetches jwks_uri key sets of clients and trusted issuers
	// SSRF-safely (nil: only inline key sets and certificates work).
	JWKS *ssrf.JWKSCache
}

// jwtBearerStore is what the JWT bearer grant needs from storage: who may
// sign (trusted issuers, the client's certificates), the user the
// assertion speaks for, the single-use jti gate (SECURITY.md C7), the token
// family of a client that enables refresh tokens, and the scopes' services.
type jwtBearerStore interface {
	scopeStore
	GetTrustedIssuerByIssuer(ctx context.Context, workspaceID, iss string) (storage.TrustedIssuer, error)
	ListClientCertificates(ctx context.Context, workspaceID, clientID string) ([]storage.ClientCertificate, error)
	GetUser(ctx context.Context, workspaceID, id string) (storage.User, error)
	GetUserByUsername(ctx context.Context, workspaceID, username string) (storage.User, error)
	GetUserByEmail(ctx context.Context, workspaceID, email string) (storage.User, error)
	GetUserByExternalID(ctx context.Context, workspaceID, externalID string) (storage.User, error)
	UseJTI(ctx context.Context, j storage.JTI) error
	CreateTokenFamily(ctx context.Context, f storage.TokenFamily, refreshHash []byte) error
}

// jwtBearerRequest is the JWT bearer grant's parameters (RFC 7523 §2.1,
// RFC 7521 §4.1): the assertion, parsed but not yet verified, and the
// optional scope and resource.
type jwtBearerRequest struct {
	assertion *jwtx.Token
	scopeParams
}

// parseJWTBearer reads the parameters. In the assertion-only shape
// clientauth has parsed the assertion already, to identify the client by
// its iss, and that parse is reused.
func parseJWTBearer(req *request, form url.Values) (jwtBearerRequest, error) {
	tok := req.identifiedBy
	if tok == nil {
		var err error
		if tok, err = parseBearerAssertion(form); err != nil {
			return jwtBearerRequest{}, err
		}
	}
	scope, err := parseScopeParams(form)
	if err != nil {
		return jwtBearerRequest{}, err
	}
	return jwtBearerRequest{assertion: tok, scopeParams: scope}, nil
}

// jwtBearer implements the JWT bearer authorization grant (RFC 7523 §2.1,
// §3; RFC 7521 §4.1). The order matters: structure, then the signer (the
// client itself or a trusted issuer allowed for it), then the signature,
// then the claims, then the user, and only then is the jti spent (while
// the token is signed), so a forged or refused assertion never burns a
// genuine one (B8).
func (h *Handler) jwtBearer(ctx context.Context, req *request, p jwtBearerRequest) (*tokenResponse, error) {
	tok := p.assertion
	src, err := h.assertionSource(ctx, req, tok)
	if err != nil {
		return nil, err
	}
	if err := h.verifyBearer(ctx, req, src, tok); err != nil {
		return nil, err
	}
	if err := validateBearer(req, src, tok, h.now()); err != nil {
		return nil, err
	}
	user, err := h.mapSubject(ctx, req, src, tok)
	if err != nil {
		return nil, err
	}
	if err := preAuthorizedCtx(ctx, req.client, user); err != nil {
		return nil, err
	}
	grant, err := h.bearerScopes(ctx, req, p)
	if err != nil {
		return nil, err
	}
	// The user policy is checked in addition to the pre-authorization.
	req.resources, req.claims = p.resources, tok.Claims.Raw
	if err := h.checkUserPolicy(ctx, req, user, grant.scopes, grant.audience); err != nil {
		return nil, err
	}
	if err := h.checkAccessPolicies(ctx, req, user, grant); err != nil {
		return nil, err
	}
	if bearerRefresh(req.client) {
		return h.issueBearerWithRefresh(ctx, req, tok, user, grant.scopes)
	}
	return h.issueSpendingJTI(ctx, req, tok, func() (*tokenResponse, error) {
		sub, err := h.userSubject(ctx, req.client, user)
		if err != nil {
			return nil, err
		}
		return h.issueAccessToken(ctx, req, grant, sub, user)
	})
}

// issueSpendingJTI spends the assertion's jti while issue signs the
// token, and answers with the token only once the jti write has committed
// (C7): a replayed assertion gets invalid_grant and its freshly signed
// token is dropped unseen. Running the two side by side hides the commit
// latency (an fsync on SQLite, a round trip on PostgreSQL) behind the
// signature instead of adding it to every request; the signature costs
// CPU only and writes nothing, so nothing is undone when the spend fails.
func (h *Handler) issueSpendingJTI(ctx context.Context, req *request, tok *jwtx.Token, issue func() (*tokenResponse, error)) (*tokenResponse, error) {
	spent := make(chan error, 1)
	go func() {
		// The server's recovery middleware does not cover this goroutine:
		// a panic here must become this request's error, not a crash.
		defer func() {
			if r := recover(); r != nil {
				spent <- errUnavailable(fmt.Errorf("grants: spending the assertion jti panicked: %v", r))
			}
		}()
		spent <- h.spendBearerJTI(ctx, req, tok)
	}()
	resp, issueErr := issue()
	if err := <-spent; err != nil {
		return nil, err
	}
	if issueErr != nil {
		return nil, issueErr
	}
	return resp, nil
}

// parseBearerAssertion parses the "assertion" parameter (RFC 7523 §2.1:
// exactly one JWT). It is also clientauth's GrantAssertionParser, so the
// assertion-only shape reports the same errors.
func parseBearerAssertion(form url.Values) (*jwtx.Token, error) {
	values := form["assertion"]
	switch {
	case len(values) == 0 || values[0] == "":
		return nil, oauth2.NewError(oauth2.ErrInvalidRequest, "assertion is required")
	case len(values) > 1:
		return nil, oauth2.NewError(oauth2.ErrInvalidRequest, "parameter assertion is repeated")
	}
	tok, err := jwtx.Parse(values[0], bearerAlgs, maxBearerAssertionSize)
	if err != nil {
		// The public sentence only: the detail quotes the token and goes
		// to the log as the cause.
		return nil, oauth2.Wrap(oauth2.ErrInvalidGrant, "assertion is invalid: "+jwtx.Describe(err), err)
	}
	return tok, nil
}

// assertionSource is who signed an assertion: the client itself or a
// trusted external issuer.
type assertionSource struct {
	issuer *storage.TrustedIssuer // nil: the client itself
}

// assertionSource decides who must have signed the assertion. iss equal to
// the client_id means the client; anything else must be a trusted issuer of
// this workspace (C1, C2), enabled (C3) and allowed for this client (C13).
// In the assertion-only shape the client is iss by construction.
func (h *Handler) assertionSource(ctx context.Context, req *request, tok *jwtx.Token) (assertionSource, error) {
	iss := tok.Claims.Issuer
	if iss == "" {
		return assertionSource{}, oauth2.NewError(oauth2.ErrInvalidGrant, "assertion has no issuer")
	}
	if iss == req.client.ID {
		return assertionSource{}, nil
	}
	ti, err := h.Store.GetTrustedIssuerByIssuer(ctx, req.ws.ID, iss)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return assertionSource{}, oauth2.NewError(oauth2.ErrInvalidGrant, "assertion issuer is not trusted")
	case err != nil:
		return assertionSource{}, errUnavailable(err)
	case !ti.Enabled:
		return assertionSource{}, oauth2.NewError(oauth2.ErrInvalidGrant, "assertion issuer is disabled")
	case !issuerAllowedFor(ti, req.client):
		return assertionSource{}, oauth2.NewError(oauth2.ErrInvalidGrant, "assertion issuer is not allowed for this client")
	}
	return assertionSource{issuer: &ti}, nil
}

// issuerAllowedFor: either side may grant the link, and neither grants it
// by default (SECURITY.md C13).
func issuerAllowedFor(ti storage.TrustedIssuer, c storage.Client) bool {
	if slices.Contains(ti.AllowedClients, c.ID) {
		return true
	}
	return c.JWTBearer != nil && slices.Contains(c.JWTBearer.AllowedTrustedIssuers, ti.ID)
}

// validateBearer checks the claims (RFC 7523 §3 items 2–6) once the
// signature has been verified, so saying which claim failed tells the
// caller nothing it could not learn by signing.
func validateBearer(req *request, src assertionSource, tok *jwtx.Token, now time.Time) error {
	exp := jwtx.Expected{
		Issuer:    tok.Claims.Issuer,
		Audiences: bearerAudiences(req, src),
		Now:       now, Skew: jwtx.DefaultSkew,
		MaxLifetime: bearerMaxLifetime(req.client, src),
		RequireExp:  true,
		RejectTypes: bearerRejectTypesFor(req, src),
	}
	if err := tok.Validate(exp); err != nil {
		return oauth2.Wrap(oauth2.ErrInvalidGrant, jwtx.Describe(err), err)
	}
	if subjectOf(tok) == "" {
		return oauth2.NewError(oauth2.ErrInvalidGrant, "assertion has no subject")
	}
	if len(tok.Claims.JTI) > maxJTILength {
		return oauth2.NewError(oauth2.ErrInvalidGrant, "assertion jti is too long")
	}
	return nil
}

// bearerAudiences is what aud must name (RFC 7523 §3 item 3, C5): the
// workspace issuer or its token endpoint always; for the client's own
// assertions also its client_id (ServiceNow) and its extra audiences; for
// a trusted issuer also its configured audience (App ID).
func bearerAudiences(req *request, src assertionSource) []string {
	auds := []string{req.issuer, endpoint.TokenEndpoint(req.issuer)}
	if src.issuer != nil {
		if src.issuer.Audience != "" {
			auds = append(auds, src.issuer.Audience)
		}
		return auds
	}
	auds = append(auds, req.client.ID)
	if s := req.client.JWTBearer; s != nil {
		auds = append(auds, s.ExtraAudiences...)
	}
	return auds
}

func bearerMaxLifetime(c storage.Client, src assertionSource) time.Duration {
	var d time.Duration
	if src.issuer != nil {
		d = src.issuer.MaxAssertionLifetime
	} else if c.JWTBearer != nil {
		d = c.JWTBearer.MaxAssertionLifetime
	}
	if d <= 0 {
		return DefaultMaxAssertionLifetime
	}
	return d
}

// subjectOf is sub, or the older prn of the JWT drafts that Salesforce
// still documents.
func subjectOf(tok *jwtx.Token) string {
	if tok.Claims.Subject != "" {
		return tok.Claims.Subject
	}
	return stringClaim(tok, "prn")
}

// stringClaim returns a string claim, "" when absent or not a string.
func stringClaim(tok *jwtx.Token, name string) string {
	raw, ok := tok.Claims.Raw[name]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// bearerScopes: the scope parameter, else the verified assertion's scope
// claim (golang.org/x/oauth2/jwt puts scopes there), within the client's
// allowed scopes (RFC 7521 §4.1, C10).
func (h *Handler) bearerScopes(ctx context.Context, req *request, p jwtBearerRequest) (scopeGrant, error) {
	catalog, err := h.scopeCatalogOf(ctx, req)
	if err != nil {
		return scopeGrant{}, err
	}
	if p.scopes == nil {
		if p.scopes, err = parseScopeParam(stringClaim(p.assertion, "scope")); err != nil {
			return scopeGrant{}, err
		}
	}
	offline := bearerRefresh(req.client) && slices.Contains(p.scopes, oidc.ScopeOfflineAccess)
	if offline {
		// offline_access asks for the refresh token this client is set up
		// to receive (OIDC Core §11); it names no service, so it is kept
		// out of the catalog check and the audience and granted as such,
		// as the code flow does. Without the setting it stays
		// invalid_scope: no refresh token would be issued.
		p.scopes = slices.DeleteFunc(slices.Clone(p.scopes), func(s string) bool { return s == oidc.ScopeOfflineAccess })
	}
	grant, err := resolveScopes(req.client, catalog, p.scopeParams, req.issuer)
	if err != nil || !offline {
		return grant, err
	}
	grant.scopes = append(grant.scopes, oidc.ScopeOfflineAccess)
	slices.Sort(grant.scopes)
	return grant, nil
}

// spendBearerJTI records the assertion as used, atomically across
// processes (RFC 7523 §3 item 7, C7). An assertion without jti
// (golang.org/x/oauth2/jwt sends none) is keyed by its SHA-256, so the very
// same assertion cannot be replayed either. The key lives until exp + skew,
// after which validation refuses the assertion anyway.
func (h *Handler) spendBearerJTI(ctx context.Context, req *request, tok *jwtx.Token) error {
	key := tok.Claims.JTI
	if key == "" {
		sum := sha256.Sum256([]byte(tok.Raw()))
		key = "sha256:" + base64.RawURLEncoding.EncodeToString(sum[:])
	}
	err := h.Store.UseJTI(ctx, storage.JTI{
		WorkspaceID: req.ws.ID,
		Namespace:   JWTBearerJTINamespace,
		Issuer:      tok.Claims.Issuer,
		JTI:         key,
		ExpiresAt:   tok.Claims.Expiry.Add(jwtx.DefaultSkew),
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrAlreadyExists):
		return oauth2.NewError(oauth2.ErrInvalidGrant, "assertion has already been used")
	default:
		return errUnavailable(err)
	}
}
