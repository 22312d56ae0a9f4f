package grants

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// presented is what a validated subject or actor token says.
type presented struct {
	// sub is the token's sub as presented (the actor's goes into "act").
	sub string
	// clientID is the client a client-alone subject token speaks for.
	clientID string
	// user is the user the token speaks for; nil for a client alone.
	user *storage.User
	// scopes bound what the new token may carry when bounded is set (our
	// access and refresh tokens); ID tokens and external JWTs carry no
	// grant, so only the client's allowed scopes bound them, as at the
	// JWT bearer grant.
	scopes  []string
	bounded bool
	// familyID is the token family the token belongs to: the new token
	// joins it, so revoking the family revokes the new token too.
	familyID string
	// expiresAt is when the token (or its family) ends; zero: never.
	expiresAt time.Time
	// family is the token family itself (zero without familyID): a refresh
	// token issued by the exchange may not outlive it.
	family storage.TokenFamily
	// claims are the token's validated claims (policies' request.claims).
	claims map[string]json.RawMessage
	// external is the issuer of a trusted issuer's JWT ("" for ours).
	external string
	// assertion is a trusted issuer's JWT presented as subject token: an
	// assertion like the JWT bearer grant's, whose jti is spent when the
	// new token is issued (nil for our own tokens, which are not single use).
	assertion *jwtx.Token
}

// act returns the token's own "act" claim (earlier actors), nil when none.
func (p presented) act() map[string]any {
	raw, ok := p.claims["act"]
	if !ok {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// errBadToken is the RFC 8693 §2.2.2 answer for a subject or actor token
// that is invalid or unacceptable: invalid_request with what is wrong.
func errBadToken(which, why string) error {
	return oauth2.NewError(oauth2.ErrInvalidRequest, which+" is invalid: "+why)
}

// asBadToken turns the invalid_grant of the shared JWT checks (trusted
// issuer, signature, claims, user mapping) into the invalid_request that
// RFC 8693 §2.2.2 prescribes; storage failures stay 503.
func asBadToken(which string, err error) error {
	var e *oauth2.Error
	if errors.As(err, &e) && e.Code == oauth2.ErrInvalidGrant {
		return &oauth2.Error{Code: oauth2.ErrInvalidRequest, Description: which + " is invalid: " + e.Description, Cause: e.Cause}
	}
	return err
}

// exchangeSubject validates the subject token by its declared type, the
// type deciding which of our records or keys it must match (RFC 8693 §2.1
// "MUST perform the appropriate validation procedures for the indicated
// token type"): a token of another type fails that validation.
func (h *Handler) exchangeSubject(ctx context.Context, req *request, st storage.TokenExchangeSettings, typ, raw string) (presented, error) {
	const which = "subject_token"
	switch typ {
	case storage.TokenTypeRefreshToken:
		return h.refreshSubject(ctx, req, raw)
	case storage.TokenTypeIDToken:
		tok, err := h.ourIDToken(ctx, req, which, raw)
		if err != nil {
			return presented{}, err
		}
		u, err := h.userBySubject(ctx, req.ws.ID, req.client, tok.Claims.Subject, which)
		if err != nil {
			return presented{}, err
		}
		return presented{sub: tok.Claims.Subject, user: &u, expiresAt: *tok.Claims.Expiry, claims: tok.Claims.Raw}, nil
	case storage.TokenTypeJWT:
		return h.externalSubject(ctx, req, st, raw)
	}
	at, issuedTo, err := h.ourAccessToken(ctx, req, which, raw)
	if err != nil {
		return presented{}, err
	}
	if at.ClientID != req.client.ID && !slices.Contains(at.Audience, req.client.ID) {
		return presented{}, errBadToken(which, "it was not issued to this client and does not name it in its audience")
	}
	p := presented{sub: at.Subject, scopes: strings.Fields(at.Scope), bounded: true, expiresAt: at.ExpiresAt, claims: accessClaims(at)}
	p.familyID, _ = at.Extra[oidc.FamilyClaim].(string)
	switch {
	case p.familyID != "":
		fam, err := h.liveFamily(ctx, req, which, p.familyID)
		if err != nil {
			return presented{}, err
		}
		p.family = fam
		u, err := h.exchangeUser(ctx, req.ws.ID, fam.UserID, which)
		if err != nil {
			return presented{}, err
		}
		p.user = &u
	case at.Subject == at.ClientID:
		p.clientID = at.ClientID // a client's own token (RFC 9068 §2.2)
	default:
		u, err := h.userBySubject(ctx, req.ws.ID, issuedTo, at.Subject, which)
		if err != nil {
			return presented{}, err
		}
		p.user = &u
	}
	return p, nil
}

// externalSubject validates a trusted issuer's JWT as subject token
// exactly as the JWT bearer grant validates its assertion (README "Token
// exchange"): the issuer's keys and claims (externalJWT), the mapping to
// an active service user, then the client's JWT bearer pre-authorization
// of that user (docs/security.md R1), which does not depend on the grant
// that presents the JWT. Its refusal keeps the JWT bearer grant's
// invalid_grant, as the user policy does here: it judges the user, not
// the token. The jti is spent only when the token is issued
// (issueSpendingSubject), after every other check, as at the JWT bearer
// grant (B8).
func (h *Handler) externalSubject(ctx context.Context, req *request, st storage.TokenExchangeSettings, raw string) (presented, error) {
	const which = "subject_token"
	tok, src, err := h.externalJWT(ctx, req, st, which, raw)
	if err != nil {
		return presented{}, err
	}
	u, err := h.mapSubject(ctx, req, src, tok)
	if err != nil {
		return presented{}, asBadToken(which, err)
	}
	if err := preAuthorizedCtx(ctx, req.client, u); err != nil {
		return presented{}, err
	}
	return presented{sub: subjectOf(tok), user: &u, expiresAt: *tok.Claims.Expiry, claims: tok.Claims.Raw,
		external: src.issuer.Issuer, assertion: tok}, nil
}

// exchangeActor validates the actor token (RFC 8693 §2.1 actor_token):
// our access token issued to the requesting client itself, our ID token
// issued to it, or a JWT of a trusted issuer allowed for it.
func (h *Handler) exchangeActor(ctx context.Context, req *request, st storage.TokenExchangeSettings, typ, raw string) (presented, error) {
	const which = "actor_token"
	switch typ {
	case storage.TokenTypeIDToken:
		tok, err := h.ourIDToken(ctx, req, which, raw)
		if err != nil {
			return presented{}, err
		}
		return presented{sub: tok.Claims.Subject}, nil
	case storage.TokenTypeJWT:
		tok, src, err := h.externalJWT(ctx, req, st, which, raw)
		if err != nil {
			return presented{}, err
		}
		return presented{sub: subjectOf(tok), external: src.issuer.Issuer}, nil
	}
	at, _, err := h.ourAccessToken(ctx, req, which, raw)
	if err != nil {
		return presented{}, err
	}
	if at.ClientID != req.client.ID {
		return presented{}, errBadToken(which, "it was not issued to this client")
	}
	if id, _ := at.Extra[oidc.FamilyClaim].(string); id != "" {
		if _, err := h.liveFamily(ctx, req, which, id); err != nil {
			return presented{}, err
		}
	}
	return presented{sub: at.Subject}, nil
}

// checkMayAct enforces the subject token's may_act claim (RFC 8693 §4.4):
// when present, the actor must be the party it names.
func checkMayAct(subj, actor presented) error {
	raw, ok := subj.claims["may_act"]
	if !ok {
		return nil
	}
	var may struct {
		Sub string `json:"sub"`
		Iss string `json:"iss"`
	}
	if json.Unmarshal(raw, &may) != nil || may.Sub != actor.sub || (may.Iss != "" && may.Iss != actor.external) {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "the actor is not named in the subject token's may_act claim")
	}
	return nil
}

// keySource is implemented by *signing.Manager: the workspace's published
// keys, for verifying our own tokens.
type keySource interface {
	VerifyKeys(ctx context.Context, wsID string) (jose.JSONWebKeySet, error)
}

func (h *Handler) publicKeys(ctx context.Context, req *request) (jose.JSONWebKeySet, error) {
	ks, ok := h.Keys.(keySource)
	if !ok {
		return jose.JSONWebKeySet{}, errUnavailable(errors.New("grants: the key source cannot verify tokens"))
	}
	keys, err := ks.VerifyKeys(ctx, req.ws.ID)
	if err != nil {
		return jose.JSONWebKeySet{}, errUnavailable(err)
	}
	return keys, nil
}

// ourAccessToken validates one of this workspace's access tokens as
// introspection does: an opaque token by its stored row, a JWT by the
// workspace's keys, typ at+jwt, iss and exp; then its revocation mark, and
// the client it was issued to still enabled and not re-created since.
// It returns the token and that client.
func (h *Handler) ourAccessToken(ctx context.Context, req *request, which, raw string) (tokens.AccessToken, storage.Client, error) {
	var (
		at  tokens.AccessToken
		err error
	)
	now := h.now()
	if tokens.IsOpaque(raw) {
		at, err = tokens.ResolveOpaque(ctx, h.Store, req.ws.ID, req.issuer, raw, now)
		switch {
		case errors.Is(err, tokens.ErrInactive):
			return at, storage.Client{}, errBadToken(which, "it is not an active access token of this workspace")
		case err != nil:
			return at, storage.Client{}, errUnavailable(err)
		}
	} else {
		keys, err := h.publicKeys(ctx, req)
		if err != nil {
			return at, storage.Client{}, err
		}
		if at, err = tokens.Verify(raw, keys, req.issuer, now); err != nil {
			if errors.Is(err, tokens.ErrExpired) {
				return at, storage.Client{}, errBadToken(which, "it has expired")
			}
			return at, storage.Client{}, errBadToken(which, "it is not an access token of this workspace")
		}
		revoked, err := h.Store.IsTokenRevoked(ctx, req.ws.ID, at.JTI)
		switch {
		case err != nil:
			return at, storage.Client{}, errUnavailable(err)
		case revoked:
			return at, storage.Client{}, errBadToken(which, "it has been revoked")
		}
	}
	if _, bound := at.Extra["cnf"]; bound {
		// A sender-constrained token (RFC 9449 §6, RFC 8705 §3) is not
		// laundered into an unbound one: the exchange takes no proof of
		// its key (SECURITY.md U9).
		return at, storage.Client{}, errBadToken(which, "it is bound to a key (cnf) and cannot be exchanged")
	}
	c, err := h.Store.GetClient(ctx, req.ws.ID, at.ClientID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return at, c, errBadToken(which, "its client no longer exists")
	case err != nil:
		return at, c, errUnavailable(err)
	case !c.Enabled || c.CreatedAt.Truncate(time.Second).After(at.IssuedAt):
		return at, c, errBadToken(which, "its client is disabled or was re-created")
	}
	return at, c, nil
}

// accessClaims are an access token's claims as request.claims shows them
// ("rtf", Latchkey's own, stays internal).
func accessClaims(at tokens.AccessToken) map[string]json.RawMessage {
	m := map[string]any{
		"iss": at.Issuer, "sub": at.Subject, "aud": at.Audience, "client_id": at.ClientID,
		"scope": at.Scope, "jti": at.JTI, "iat": at.IssuedAt.Unix(), "exp": at.ExpiresAt.Unix(),
	}
	for k, v := range at.Extra {
		if k != oidc.FamilyClaim {
			if _, reserved := m[k]; !reserved {
				m[k] = v
			}
		}
	}
	return rawClaims(m)
}

// ourIDToken validates one of this workspace's ID tokens issued to the
// requesting client (OIDC Core §3.1.3.7: iss, aud, signature, exp).
func (h *Handler) ourIDToken(ctx context.Context, req *request, which, raw string) (*jwtx.Token, error) {
	tok, err := jwtx.Parse(raw, oauth2.AsymmetricVerifyAlgs, tokens.MaxTokenSize)
	if err != nil {
		return nil, errBadToken(which, jwtx.Describe(err))
	}
	keys, err := h.publicKeys(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := tok.Verify(keys.Keys); err != nil {
		return nil, errBadToken(which, "it is not an ID token of this workspace")
	}
	err = tok.Validate(jwtx.Expected{
		Issuer: req.issuer, Audiences: []string{req.client.ID}, Now: h.now(), RequireExp: true,
		// An ID token is typed JWT or not at all; an access token, logout
		// token or any other typed JWT is not one (RFC 8725 §3.11).
		RejectTypes: bearerRejectTypes,
	})
	switch {
	case errors.Is(err, jwtx.ErrAudienceInvalid):
		return nil, errBadToken(which, "it was not issued to this client")
	case errors.Is(err, jwtx.ErrExpired):
		return nil, errBadToken(which, "it has expired")
	case err != nil:
		return nil, errBadToken(which, jwtx.Describe(err))
	case tok.Claims.Subject == "":
		return nil, errBadToken(which, "it has no subject")
	}
	return tok, nil
}

// externalJWT validates a JWT of one of the workspace's trusted issuers
// with the JWT bearer grant's checks (signature against the issuer's keys
// only, iss, aud naming this workspace or the issuer's configured
// audience, lifetime), so that an external identity provider's token is
// exchanged directly (the CMiC case). The issuer must be enabled and
// allowed for the client, by the client's settings or the issuer's own
// list (SECURITY.md C13, U12).
func (h *Handler) externalJWT(ctx context.Context, req *request, st storage.TokenExchangeSettings, which, raw string) (*jwtx.Token, assertionSource, error) {
	tok, err := jwtx.Parse(raw, oauth2.AsymmetricVerifyAlgs, maxBearerAssertionSize)
	if err != nil {
		return nil, assertionSource{}, errBadToken(which, jwtx.Describe(err))
	}
	iss := tok.Claims.Issuer
	if iss == "" || iss == req.issuer {
		return nil, assertionSource{}, errBadToken(which, "a JWT must come from a trusted issuer; this workspace's own tokens are exchanged as access_token or id_token")
	}
	ti, err := h.Store.GetTrustedIssuerByIssuer(ctx, req.ws.ID, iss)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, assertionSource{}, errBadToken(which, "its issuer is not trusted")
	case err != nil:
		return nil, assertionSource{}, errUnavailable(err)
	case !ti.Enabled:
		return nil, assertionSource{}, errBadToken(which, "its issuer is disabled")
	case !slices.Contains(ti.AllowedClients, req.client.ID) && !slices.Contains(st.AllowedIssuers, ti.ID):
		return nil, assertionSource{}, errBadToken(which, "its issuer is not allowed for this client")
	}
	src := assertionSource{issuer: &ti}
	if err := h.verifyBearer(ctx, req, src, tok); err != nil {
		return nil, src, asBadToken(which, err)
	}
	if err := validateBearer(req, src, tok, h.now()); err != nil {
		return nil, src, asBadToken(which, err)
	}
	return tok, src, nil
}

// refreshSubject validates a refresh token as subject: ours, issued to
// the requesting client (refresh tokens are bound to their client,
// RFC 6749 §10.4), the current one of a live family. It is only read: the
// exchange neither consumes nor rotates it.
func (h *Handler) refreshSubject(ctx context.Context, req *request, raw string) (presented, error) {
	const which = "subject_token"
	if !strings.HasPrefix(raw, RefreshTokenPrefix) || len(raw) > maxRefreshLen {
		return presented{}, errBadToken(which, "it is not a refresh token of this workspace")
	}
	fam, gen, err := h.Store.GetRefreshToken(ctx, req.ws.ID, sha(raw))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return presented{}, errBadToken(which, "it is not a refresh token of this workspace")
	case err != nil:
		return presented{}, errUnavailable(err)
	case fam.ClientID != req.client.ID:
		return presented{}, errBadToken(which, "it was not issued to this client")
	case gen != fam.Generation || !fam.Live(h.now()):
		return presented{}, errBadToken(which, "it is expired, rotated or revoked")
	}
	switch live, err := h.parentLive(ctx, req.ws.ID, fam); {
	case err != nil:
		return presented{}, err
	case !live:
		return presented{}, errBadToken(which, "it is expired, rotated or revoked")
	}
	u, err := h.exchangeUser(ctx, req.ws.ID, fam.UserID, which)
	if err != nil {
		return presented{}, err
	}
	sub, err := h.userSubject(ctx, req.client, u)
	if err != nil {
		return presented{}, err
	}
	claims := rawClaims(map[string]any{"iss": req.issuer, "sub": sub, "client_id": fam.ClientID, "scope": strings.Join(fam.Scopes, " ")})
	return presented{sub: sub, user: &u, scopes: fam.Scopes, bounded: true, familyID: fam.ID, expiresAt: fam.ExpiresAt,
		family: fam, claims: claims}, nil
}

// liveFamily returns the token family an access token belongs to, which
// must not be revoked (revoking a refresh token ends its access tokens,
// RFC 7009 §2.1).
func (h *Handler) liveFamily(ctx context.Context, req *request, which, id string) (storage.TokenFamily, error) {
	fam, err := h.Store.GetTokenFamily(ctx, req.ws.ID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fam, errBadToken(which, "it has been revoked")
	case err != nil:
		return fam, errUnavailable(err)
	case !fam.RevokedAt.IsZero():
		return fam, errBadToken(which, "it has been revoked")
	}
	switch live, err := h.parentLive(ctx, req.ws.ID, fam); {
	case err != nil:
		return fam, err
	case !live:
		return fam, errBadToken(which, "it has been revoked")
	}
	return fam, nil
}

// parentLive reports whether the family a token exchange began this one
// from (storage.TokenFamily.ParentFamilyID) still stands: revoking it
// ends every family exchanged from it. A family without a parent stands.
// Errors are storage failures (503).
func (h *Handler) parentLive(ctx context.Context, wsID string, fam storage.TokenFamily) (bool, error) {
	if fam.ParentFamilyID == "" {
		return true, nil
	}
	parent, err := h.Store.GetTokenFamily(ctx, wsID, fam.ParentFamilyID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	case err != nil:
		return false, errUnavailable(err)
	}
	return parent.RevokedAt.IsZero() && (parent.ExpiresAt.IsZero() || h.now().Before(parent.ExpiresAt)), nil
}

// exchangeUser is the active user a subject token speaks for.
func (h *Handler) exchangeUser(ctx context.Context, wsID, id, which string) (storage.User, error) {
	u, err := h.Store.GetUser(ctx, wsID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return u, errBadToken(which, "its user no longer exists")
	case err != nil:
		return u, errUnavailable(err)
	case !u.Active:
		return u, errBadToken(which, "its user is disabled")
	}
	return u, nil
}

// userBySubject finds the user a token's sub names, as client c sees
// users (its subject format, or its service user); the user's sub computed
// again must equal it. A pairwise sub cannot be traced back.
func (h *Handler) userBySubject(ctx context.Context, wsID string, c storage.Client, sub, which string) (storage.User, error) {
	if c.ServiceUserID != "" {
		// The client's own token naming its service user (RFC 9068 §2.2
		// sub of a client_credentials token); otherwise a user token.
		u, err := h.Store.GetUser(ctx, wsID, c.ServiceUserID)
		if err == nil && u.Active {
			if again, err := h.userSubject(ctx, c, u); err == nil && again == sub {
				return u, nil
			}
		}
	}
	var (
		u   storage.User
		err error
	)
	switch {
	case c.EffectiveSubjectFormat() == storage.SubjectFormatUsername:
		u, err = h.Store.GetUserByUsername(ctx, wsID, sub)
	case c.EffectiveSubjectFormat() == storage.SubjectFormatEmail:
		u, err = h.Store.GetUserByEmail(ctx, wsID, sub)
	case c.EffectiveSubjectFormat() == storage.SubjectFormatPairwise:
		return u, errBadToken(which, "its pairwise subject cannot be exchanged; exchange the refresh token instead")
	default:
		u, err = h.Store.GetUser(ctx, wsID, sub)
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return u, errBadToken(which, "its user no longer exists")
	case err != nil:
		return u, errUnavailable(err)
	case !u.Active:
		return u, errBadToken(which, "its user is disabled")
	}
	if again, err := h.userSubject(ctx, c, u); err != nil || again != sub {
		return u, errBadToken(which, "its subject does not name a user of this workspace")
	}
	return u, nil
}
