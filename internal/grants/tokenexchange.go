package grants

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// Token exchange (RFC 8693). A client presents a subject_token (and, for
// delegation, an actor_token) and receives a new token for the same
// subject, narrowed to what the subject token and the client allow.
//
// Errors follow RFC 8693 §2.2.2: a malformed request, and a subject or
// actor token that is invalid for any reason or unacceptable by policy,
// are invalid_request; an audience or resource the client may not have is
// invalid_target; a scope beyond the subject token's or the client's is
// invalid_scope (RFC 6749 §5.2). The CEL user and machine policies keep
// their codes (invalid_grant, unauthorized_client) as at every grant.

// maxActDepth bounds the nested "act" chain (RFC 8693 §4.1): each
// exchange with an actor adds one level.
const maxActDepth = 5

// maxAudiences bounds the audience parameters of one request.
const maxAudiences = 10

// maxAudienceLength bounds one audience value.
const maxAudienceLength = 2048

// tokenExchangeStore is what the token exchange grant reads: the subject
// and actor tokens' records (opaque rows, families, revocation marks),
// the clients they were issued to and the users they speak for.
type tokenExchangeStore interface {
	scopeStore
	GetClient(ctx context.Context, workspaceID, id string) (storage.Client, error)
	GetUser(ctx context.Context, workspaceID, id string) (storage.User, error)
	GetUserByUsername(ctx context.Context, workspaceID, username string) (storage.User, error)
	GetUserByEmail(ctx context.Context, workspaceID, email string) (storage.User, error)
	GetRefreshToken(ctx context.Context, workspaceID string, hash []byte) (storage.TokenFamily, int, error)
	GetTokenFamily(ctx context.Context, workspaceID, id string) (storage.TokenFamily, error)
	IsTokenRevoked(ctx context.Context, workspaceID, jti string) (bool, error)
	tokens.OpaqueReader
	GetTrustedIssuerByIssuer(ctx context.Context, workspaceID, iss string) (storage.TrustedIssuer, error)
	// UseJTI spends a trusted issuer's JWT presented as subject token, in
	// the JWT bearer grant's namespace (SECURITY.md C7).
	UseJTI(ctx context.Context, j storage.JTI) error
}

// tokenExchangeRequest is the grant's parameters (RFC 8693 §2.1).
type tokenExchangeRequest struct {
	subjectToken, subjectType string
	actorToken, actorType     string
	requestedType             string
	audiences                 []string
	scopeParams
}

// parseTokenExchange reads the parameters; anything missing, repeated
// (the shared form parser refuses repeats of all but resource and
// audience) or of an unknown type is invalid_request (RFC 8693 §2.2.2).
func parseTokenExchange(_ *request, form url.Values) (tokenExchangeRequest, error) {
	p := tokenExchangeRequest{
		subjectToken: form.Get("subject_token"), subjectType: form.Get("subject_token_type"),
		actorToken: form.Get("actor_token"), actorType: form.Get("actor_token_type"),
		requestedType: form.Get("requested_token_type"),
	}
	switch {
	case p.subjectToken == "":
		return p, oauth2.NewError(oauth2.ErrInvalidRequest, "subject_token is required")
	case p.subjectType == "":
		return p, oauth2.NewError(oauth2.ErrInvalidRequest, "subject_token_type is required")
	case !slices.Contains(storage.SubjectTokenTypes, p.subjectType):
		return p, oauth2.NewError(oauth2.ErrInvalidRequest, "subject_token_type "+describable(p.subjectType)+
			" is not supported (supported: "+strings.Join(storage.SubjectTokenTypes, ", ")+")")
	case p.actorToken != "" && p.actorType == "":
		return p, oauth2.NewError(oauth2.ErrInvalidRequest, "actor_token_type is required with actor_token")
	case p.actorToken == "" && p.actorType != "":
		return p, oauth2.NewError(oauth2.ErrInvalidRequest, "actor_token_type was sent without actor_token")
	case p.actorType != "" && !slices.Contains(actorTokenTypes, p.actorType):
		return p, oauth2.NewError(oauth2.ErrInvalidRequest, "actor_token_type "+describable(p.actorType)+
			" is not supported (supported: "+strings.Join(actorTokenTypes, ", ")+")")
	}
	if p.requestedType == "" {
		p.requestedType = storage.TokenTypeAccessToken
	}
	if !slices.Contains(requestedTokenTypes, p.requestedType) {
		return p, oauth2.NewError(oauth2.ErrInvalidRequest, "requested_token_type "+describable(p.requestedType)+
			" is not supported (supported: "+strings.Join(requestedTokenTypes, ", ")+")")
	}
	auds := form["audience"]
	if len(auds) > maxAudiences {
		return p, oauth2.NewError(oauth2.ErrInvalidRequest, "too many audience parameters")
	}
	for _, a := range auds {
		if a == "" || len(a) > maxAudienceLength {
			return p, oauth2.NewError(oauth2.ErrInvalidRequest, "audience must be a non-empty value of at most 2048 characters")
		}
		if !slices.Contains(p.audiences, a) {
			p.audiences = append(p.audiences, a)
		}
	}
	var err error
	p.scopeParams, err = parseScopeParams(form)
	return p, err
}

// actorTokenTypes are the actor_token_type values accepted: a refresh
// token never identifies an actor.
var actorTokenTypes = []string{storage.TokenTypeAccessToken, storage.TokenTypeIDToken, storage.TokenTypeJWT}

// requestedTokenTypes are what may be asked for (RFC 8693 §2.1
// requested_token_type): an access token in the client's format (the
// default), a JWT access token whatever the client's format, or a refresh
// token where the client allows it.
var requestedTokenTypes = []string{storage.TokenTypeAccessToken, storage.TokenTypeJWT, storage.TokenTypeRefreshToken}

// tokenExchange implements the grant (RFC 8693 §2): the client's
// settings, the subject token, the actor token, the target (scope,
// resource, audience), the policies, and then the new token.
func (h *Handler) tokenExchange(ctx context.Context, req *request, p tokenExchangeRequest) (*tokenResponse, error) {
	st, err := exchangeSettings(req, p)
	if err != nil {
		return nil, err
	}
	subj, err := h.exchangeSubject(ctx, req, st, p.subjectType, p.subjectToken)
	if err != nil {
		return nil, err
	}
	var actor *presented
	if p.actorToken != "" {
		a, err := h.exchangeActor(ctx, req, st, p.actorType, p.actorToken)
		if err != nil {
			return nil, err
		}
		if err := checkMayAct(subj, a); err != nil {
			return nil, err
		}
		actor = &a
	}
	act, err := actClaim(subj, actor)
	if err != nil {
		return nil, err
	}
	grant, err := h.exchangeTarget(ctx, req, st, subj, p)
	if err != nil {
		return nil, err
	}
	req.resources, req.claims = p.resources, subj.claims
	if err := h.exchangePolicies(ctx, req, subj, grant); err != nil {
		return nil, err
	}
	if p.requestedType == storage.TokenTypeRefreshToken {
		// Only a subject of a token family gets one, which a trusted
		// issuer's JWT never is: it is refused there and nothing is spent.
		return h.issueExchangedRefresh(ctx, req, subj, grant)
	}
	life, err := h.exchangedLifetime(req, subj)
	if err != nil {
		return nil, err
	}
	return h.issueSpendingSubject(ctx, req, subj, func() (*tokenResponse, error) {
		return h.issueExchanged(ctx, req, subj, act, grant, p.requestedType, life)
	})
}

// issueSpendingSubject issues the new token and, for a trusted issuer's
// JWT as subject, spends its jti through the JWT bearer grant's
// issueSpendingJTI: the same replay namespace (JWTBearerJTINamespace), so
// an assertion is accepted once at either grant, atomically across
// processes (SECURITY.md C7). It runs after every check that can refuse
// the request, so a refused exchange never burns an assertion (B8). A
// spent jti makes the subject token invalid (RFC 8693 §2.2.2:
// invalid_request); the issue's own errors pass unchanged.
func (h *Handler) issueSpendingSubject(ctx context.Context, req *request, subj presented, issue func() (*tokenResponse, error)) (*tokenResponse, error) {
	if subj.assertion == nil {
		return issue()
	}
	resp, err := h.issueSpendingJTI(ctx, req, subj.assertion, func() (*tokenResponse, error) {
		resp, err := issue()
		if err != nil {
			return nil, issueError{err}
		}
		return resp, nil
	})
	var ie issueError
	switch {
	case err == nil:
		return resp, nil
	case errors.As(err, &ie):
		return nil, ie.error
	}
	return nil, asBadToken("subject_token", err)
}

// issueError tells the issue's errors apart from the spend's in
// issueSpendingSubject.
type issueError struct{ error }

// lifetime is when the new access token is issued and for how long.
type lifetime struct {
	issuedAt time.Time
	ttl      time.Duration
}

// exchangedLifetime is the client's access token lifetime, never beyond
// the subject token's (its exp, or its family's end). A subject token
// about to expire is refused here, before a JWT subject's jti is spent.
func (h *Handler) exchangedLifetime(req *request, subj presented) (lifetime, error) {
	now := h.now().Truncate(time.Second)
	ttl := h.accessTokenTTL(req.ws, req.client)
	if !subj.expiresAt.IsZero() {
		left := subj.expiresAt.Truncate(time.Second).Sub(now)
		if left < time.Second {
			return lifetime{}, oauth2.NewError(oauth2.ErrInvalidRequest, "the subject token is about to expire")
		}
		ttl = min(ttl, left)
	}
	return lifetime{issuedAt: now, ttl: ttl}, nil
}

// exchangeSettings checks what the client may do before any token is
// looked at: a confidential client (RFC 8693 §5: client authentication
// keeps a stolen token from being exchanged by anyone), settings that an
// admin enabled, the subject token type, and impersonation or delegation
// (RFC 8693 §1.1).
func exchangeSettings(req *request, p tokenExchangeRequest) (storage.TokenExchangeSettings, error) {
	if req.client.Type != oauth2.ClientConfidential || req.authMethod == oauth2.AuthNone {
		return storage.TokenExchangeSettings{}, oauth2.NewError(oauth2.ErrUnauthorizedClient,
			"token exchange is only available to confidential clients")
	}
	st := req.client.TokenExchange
	if st == nil {
		return storage.TokenExchangeSettings{}, oauth2.NewError(oauth2.ErrUnauthorizedClient,
			"token exchange is not enabled for this client: an administrator must allow subject token types and impersonation or delegation")
	}
	if !slices.Contains(st.SubjectTokenTypes, p.subjectType) {
		return *st, oauth2.NewError(oauth2.ErrInvalidRequest, "this client may not exchange subject tokens of type "+describable(p.subjectType))
	}
	if p.actorToken == "" && !st.MayImpersonate {
		return *st, oauth2.NewError(oauth2.ErrInvalidRequest,
			"this client may not impersonate: send an actor_token to act on behalf of the subject (delegation)")
	}
	if p.actorToken != "" && !st.MayDelegate {
		return *st, oauth2.NewError(oauth2.ErrInvalidRequest, "this client may not delegate: actor_token is not allowed")
	}
	if p.requestedType == storage.TokenTypeRefreshToken {
		switch {
		case !st.RefreshTokens || !slices.Contains(req.client.GrantTypes, oauth2.GrantRefreshToken):
			return *st, oauth2.NewError(oauth2.ErrInvalidRequest, "this client may not obtain refresh tokens by token exchange")
		case p.actorToken != "":
			// The refreshed tokens would lose "act": refresh tokens are
			// for impersonation only.
			return *st, oauth2.NewError(oauth2.ErrInvalidRequest, "a refresh token cannot be issued for delegation (with actor_token)")
		}
	}
	return *st, nil
}

// actClaim is the "act" claim of the new token (RFC 8693 §4.1): the
// current actor, with the subject token's own act (the previous actors)
// nested inside. Without an actor (impersonation) the subject's act is
// kept as it is, so the record of earlier delegations is never lost.
func actClaim(subj presented, actor *presented) (map[string]any, error) {
	prev := subj.act()
	if actor == nil {
		return prev, nil
	}
	if depth(prev)+1 > maxActDepth {
		return nil, oauth2.NewError(oauth2.ErrInvalidRequest, "the delegation chain is too long (at most 5 actors)")
	}
	act := map[string]any{"sub": actor.sub}
	if actor.external != "" {
		act["iss"] = actor.external
	}
	if prev != nil {
		act["act"] = prev
	}
	return act, nil
}

func depth(act map[string]any) int {
	n := 0
	for act != nil && n <= maxActDepth {
		n++
		act, _ = act["act"].(map[string]any)
	}
	return n
}

// exchangeTarget resolves scope, resource and audience (RFC 8693 §2.1,
// §5 "downscoping"): scopes only within both the subject token's and the
// client's (invalid_scope), resources among the workspace's services
// owning a granted scope (invalid_target), audiences among those services
// or the client's allowed audiences (invalid_target).
func (h *Handler) exchangeTarget(ctx context.Context, req *request, st storage.TokenExchangeSettings, subj presented, p tokenExchangeRequest) (scopeGrant, error) {
	catalog, err := h.scopeCatalogOf(ctx, req)
	if err != nil {
		return scopeGrant{}, err
	}
	var extra []string // logical audiences that are not services
	params := p.scopeParams
	for _, a := range p.audiences {
		switch {
		case catalog.HasService(a):
			if !slices.Contains(params.resources, a) {
				params.resources = append(params.resources, a)
			}
		case slices.Contains(st.AllowedAudiences, a):
			extra = append(extra, a)
		default:
			return scopeGrant{}, oauth2.NewError(oauth2.ErrInvalidTarget, "audience "+describable(a)+" is not allowed for this client")
		}
	}
	// The scopes the new token may carry: the subject token's, within the
	// client's allowed scopes.
	within := req.client
	if subj.bounded {
		within.Scopes = intersect(req.client.Scopes, subj.scopes)
		for _, s := range params.scopes {
			if !slices.Contains(subj.scopes, s) {
				return scopeGrant{}, oauth2.NewError(oauth2.ErrInvalidScope, "scope "+describable(s)+" exceeds the subject token's scope")
			}
		}
	}
	grant, err := resolveScopes(within, catalog, params, req.issuer)
	if err != nil {
		return scopeGrant{}, err
	}
	if len(extra) > 0 {
		if len(grant.audience) == 1 && grant.audience[0] == req.issuer {
			grant.audience = nil // no service: only the asked-for audiences
		}
		grant.audience = append(slices.Clone(grant.audience), extra...)
	}
	return grant, nil
}

func intersect(a, b []string) []string {
	out := []string{}
	for _, x := range a {
		if slices.Contains(b, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// exchangePolicies applies the policies of the other grants: the user
// policy when the subject is a user, the machine policy when it is a
// client alone, and the access policies of the granted scopes' services;
// request.claims are the subject token's validated claims.
func (h *Handler) exchangePolicies(ctx context.Context, req *request, subj presented, grant scopeGrant) error {
	if subj.user != nil {
		if err := h.checkUserPolicy(ctx, req, *subj.user, grant.scopes, grant.audience); err != nil {
			return err
		}
		return h.checkAccessPolicies(ctx, req, *subj.user, grant)
	}
	if err := h.checkMachinePolicy(ctx, req, grant); err != nil {
		return err
	}
	return h.checkAccessPolicies(ctx, req, storage.User{}, grant)
}

// issueExchanged mints the new token through the shared path (mapped
// claims, the client's format). It carries the subject's token family
// ("rtf") so that revoking the subject's family revokes it too, "act"
// for delegation, and never outlives the subject token (its exp, or its
// family's end: life, from exchangedLifetime).
func (h *Handler) issueExchanged(ctx context.Context, req *request, subj presented, act map[string]any, grant scopeGrant, requested string, life lifetime) (*tokenResponse, error) {
	user := storage.User{}
	sub := subj.clientID
	if subj.user != nil {
		user = *subj.user
		var err error
		if sub, err = h.userSubject(ctx, req.client, user); err != nil {
			return nil, err
		}
	}
	set, err := h.mappedClaims(ctx, req, user, grant)
	if err != nil {
		return nil, err
	}
	now, ttl := life.issuedAt, life.ttl
	at := tokens.AccessToken{
		Issuer: req.issuer, Subject: sub, ClientID: req.client.ID, Scope: strings.Join(grant.scopes, " "),
		JTI: tokens.NewJTI(), Audience: grant.audience, IssuedAt: now, ExpiresAt: now.Add(ttl),
	}
	format := req.client
	if requested == storage.TokenTypeJWT {
		format.AccessTokenFormat = storage.AccessTokenJWT
	}
	at = withMappedClaims(at, format, set)
	extra := make(map[string]any, len(at.Extra)+2)
	for k, v := range at.Extra {
		extra[k] = v
	}
	if subj.familyID != "" {
		extra[oidc.FamilyClaim] = subj.familyID
	}
	if act != nil {
		extra["act"] = act
	}
	if len(extra) > 0 {
		at.Extra = extra
	}
	var raw string
	if requested == storage.TokenTypeJWT {
		raw, err = h.mintJWT(ctx, req, at)
	} else {
		var signer signing.Signer
		if !req.client.OpaqueAccessTokens() {
			if signer, err = h.Keys.Signer(ctx, req.ws.ID); err != nil {
				return nil, errUnavailable(err)
			}
		}
		raw, err = h.mintAccessToken(ctx, req, signer, at)
	}
	if err != nil {
		return nil, err
	}
	resp := &tokenResponse{
		AccessToken: raw, TokenType: "Bearer", ExpiresIn: int64(ttl / time.Second),
		Scope: at.Scope, IssuedTokenType: requested,
	}
	if requested != storage.TokenTypeAccessToken {
		// RFC 8693 §2.2.1: "N_A" when the issued token is not an access token.
		resp.TokenType = "N_A"
	}
	return resp, nil
}

// issueExchangedRefresh answers requested_token_type refresh_token
// (RFC 8693 §2.2.1: the refresh token travels in access_token, with
// token_type N_A): the first refresh token of a new family of the
// requesting client for the subject's user and the granted scopes. The
// family ends when the subject's family ends, and its ParentFamilyID makes
// it end when that family (or its own parent) is revoked, so the refresh
// token never outlives the subject grant (SECURITY.md U10). Redeeming it
// is the ordinary refresh_token grant: rotation, reuse detection, the
// user still active, the policies.
func (h *Handler) issueExchangedRefresh(ctx context.Context, req *request, subj presented, grant scopeGrant) (*tokenResponse, error) {
	if subj.user == nil || subj.familyID == "" || !subj.family.Refresh {
		return nil, oauth2.NewError(oauth2.ErrInvalidRequest,
			"a refresh token is issued only for a user's subject token whose grant has refresh tokens")
	}
	now := h.now().UTC()
	idle, abs := h.refreshTTLs(req.client)
	end := now.Add(abs)
	if pe := subj.family.ExpiresAt; !pe.IsZero() && pe.Before(end) {
		end = pe
	}
	if !end.After(now.Add(time.Second)) {
		return nil, oauth2.NewError(oauth2.ErrInvalidRequest, "the subject token's grant is about to expire")
	}
	parent := subj.family.ID
	if subj.family.ParentFamilyID != "" {
		parent = subj.family.ParentFamilyID
	}
	fam := storage.TokenFamily{
		WorkspaceID: req.ws.ID, ID: newOpaque()[:familyIDLength], ClientID: req.client.ID, UserID: subj.user.ID,
		Scopes: grant.scopes, GrantType: oauth2.GrantTokenExchange, Refresh: true, Generation: 1,
		CreatedAt: now, RotatedAt: now, LastUsedAt: now, IdleTTL: idle, ExpiresAt: end, ParentFamilyID: parent,
	}
	rt := RefreshTokenPrefix + newOpaque()
	if err := h.recordBearerFamily(ctx, fam, rt); err != nil {
		return nil, err
	}
	return &tokenResponse{
		AccessToken: rt, TokenType: "N_A", ExpiresIn: int64(end.Sub(now) / time.Second),
		Scope: strings.Join(grant.scopes, " "), IssuedTokenType: storage.TokenTypeRefreshToken,
	}, nil
}

// mintJWT signs the content as an RFC 9068 JWT whatever the client's
// access token format (requested_token_type jwt).
func (h *Handler) mintJWT(ctx context.Context, req *request, at tokens.AccessToken) (string, error) {
	signer, err := h.Keys.Signer(ctx, req.ws.ID)
	if err != nil {
		return "", errUnavailable(err)
	}
	at, err = h.withStatus(ctx, req, bindAccessToken(req, at)) // RFC 9449 §6 (dpop.go); status list (statuslist.go)
	if err != nil {
		return "", err
	}
	raw, err := tokens.Mint(signer, at)
	if err != nil {
		return "", errUnavailable(err)
	}
	return raw, nil
}

// rawClaims turns decoded claims into the form request.claims takes.
func rawClaims(m map[string]any) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		if b, err := json.Marshal(v); err == nil {
			out[k] = b
		}
	}
	return out
}
