package grants

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
)

// WhatIfRequest is a token request the what-if tool plays without issuing
// anything: a user (UserID) or the client alone asking for scopes and
// resources from an address with a grant type.
type WhatIfRequest struct {
	Workspace storage.Workspace
	Client    storage.Client
	// UserID is the user; "" asks as the client alone (client_credentials,
	// with the client's service user if it names one).
	UserID string
	// GrantType defaults to authorization_code with a user and
	// client_credentials without.
	GrantType string
	Scopes    []string
	Resources []string
	RemoteIP  string
}

// PolicyTrace is one evaluated policy of a what-if: its decision and each
// rule's result.
type PolicyTrace struct {
	Policy storage.Policy
	// Kind is how it is attached: user, machine or access; or
	// KindPreAuthorization for the JWT bearer pre-authorization, which
	// is no saved policy (Policy has its name and rendered rules only)
	// but the Template with Params that the client's settings are.
	Kind     string
	Template string
	Params   map[string]string
	policy.Decision
	Rules []policy.RuleResult
}

// KindPreAuthorization marks the pre-authorization stage of a what-if.
const KindPreAuthorization = "pre_authorization"

// WhatIfResult is what the token endpoint would do: the policies it would
// evaluate, in order, up to the first denial; the final decision (Error
// empty on allow) and, when allowed, the claims it would issue.
type WhatIfResult struct {
	GrantType        string
	Policies         []PolicyTrace
	Error            string
	ErrorDescription string
	AccessToken      map[string]any
	IDToken          map[string]any // nil without a user or without openid
}

// ErrWhatIfUser is returned when the what-if names a user that does not
// exist.
var ErrWhatIfUser = errors.New("grants: what-if user does not exist")

// explainer is what the what-if needs of the policy engine.
type explainer interface {
	Explain(ctx context.Context, workspaceID, id string, in policy.Input) (policy.Explanation, error)
}

// tracer is a policy.Checker that records each explained policy: the
// what-if runs the grants' own policy steps with it, so the tool shows
// what the endpoints do, through the same code.
type tracer struct {
	engine explainer
	kinds  map[string]string
	out    []PolicyTrace
}

func (t *tracer) Check(ctx context.Context, workspaceID, id string, in policy.Input) (policy.Decision, error) {
	x, err := t.engine.Explain(ctx, workspaceID, id, in)
	if err != nil {
		return policy.Decision{}, err
	}
	t.out = append(t.out, PolicyTrace{Policy: x.Policy, Kind: t.kinds[id], Decision: x.Decision, Rules: x.Rules})
	return x.Decision, nil
}

// WhatIf plays in through the grants' policy steps and token content. A
// refusal (policy denial, unknown scope, disabled service user) is the
// result's Error; err is a storage failure or ErrWhatIfUser.
func (h *Handler) WhatIf(ctx context.Context, in WhatIfRequest) (WhatIfResult, error) {
	ex, _ := h.Policies.(explainer)
	t := &tracer{engine: ex, kinds: map[string]string{}}
	hh := *h
	if ex != nil {
		hh.Policies = t
	} else {
		hh.Policies = nil
	}
	req := &request{ws: in.Workspace, issuer: endpoint.Issuer(h.BaseURL, in.Workspace.ID), grantType: in.GrantType,
		client: in.Client, authMethod: in.Client.TokenEndpointAuthMethod, remoteIP: in.RemoteIP, resources: in.Resources}
	t.kinds[in.Client.MachinePolicyID] = storage.PolicyKindMachine
	t.kinds[userPolicyID(in.Workspace, in.Client)] = storage.PolicyKindUser
	if refs, err := h.Store.ListScopes(ctx, in.Workspace.ID); err == nil {
		for _, r := range refs {
			if r.AccessPolicyID != "" {
				t.kinds[r.AccessPolicyID] = storage.PolicyKindAccess
			}
		}
	}
	var res WhatIfResult
	var err error
	if in.UserID == "" {
		err = hh.whatIfClient(ctx, req, in, &res)
	} else {
		err = hh.whatIfUser(ctx, req, in, &res, t)
	}
	res.GrantType, res.Policies = req.grantType, t.out
	var oe *oauth2.Error
	if err != nil && errors.As(err, &oe) && oe.Code != oauth2.ErrTemporarilyUnavailable && oe.Code != oauth2.ErrServerError {
		res.Error, res.ErrorDescription = string(oe.Code), oe.Description
		if n := len(t.out); n > 0 && !t.out[n-1].Allow && res.GrantType == oauth2.GrantAuthorizationCode {
			// The authorization endpoint evaluates these policies for the
			// code flow and answers a denial access_denied (RFC 6749 §4.1.2.1).
			res.Error = string(oauth2.ErrAccessDenied)
		}
		res.AccessToken, res.IDToken = nil, nil
		return res, nil
	}
	return res, err
}

func (h *Handler) whatIfClient(ctx context.Context, req *request, in WhatIfRequest, res *WhatIfResult) error {
	if req.grantType == "" {
		req.grantType = oauth2.GrantClientCredentials
	}
	if req.grantType != oauth2.GrantClientCredentials {
		return oauth2.NewError(oauth2.ErrUnsupportedGrantType, "without a user the grant type is client_credentials")
	}
	if req.client.Type != oauth2.ClientConfidential || req.authMethod == oauth2.AuthNone {
		return oauth2.NewError(oauth2.ErrUnauthorizedClient, "client_credentials is only available to confidential clients")
	}
	grant, subject, err := h.clientCredentialsGrant(ctx, req, clientCredentialsRequest{scopeParams{scopes: in.Scopes, resources: in.Resources}})
	if err != nil {
		return err
	}
	set, err := h.mappedClaims(ctx, req, h.claimsUser(ctx, req), grant)
	if err != nil {
		return err
	}
	now := h.now().Truncate(time.Second)
	at := withMappedClaims(h.machineAccessToken(req, grant, subject, now, h.accessTokenTTL(req.ws, req.client)), req.client, set)
	res.AccessToken, err = at.ClaimSet()
	return claimsErr(err)
}

func (h *Handler) whatIfUser(ctx context.Context, req *request, in WhatIfRequest, res *WhatIfResult, t *tracer) error {
	if req.grantType == "" {
		req.grantType = oauth2.GrantAuthorizationCode
	}
	switch req.grantType {
	case oauth2.GrantAuthorizationCode, oauth2.GrantRefreshToken, oauth2.GrantJWTBearer:
	default:
		return oauth2.NewError(oauth2.ErrUnsupportedGrantType,
			"with a user the grant type is authorization_code, refresh_token or urn:ietf:params:oauth:grant-type:jwt-bearer")
	}
	user, err := h.Store.GetUser(ctx, req.ws.ID, in.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrWhatIfUser
	} else if err != nil {
		return errUnavailable(err)
	}
	if !user.Active {
		return oauth2.NewError(oauth2.ErrInvalidGrant, "the user is disabled")
	}
	if req.grantType != oauth2.GrantJWTBearer {
		// The code flow and its refreshes: a password sign-in now, what
		// the session would record (user.authentication).
		req.auth = policy.Authentication{Methods: []string{"pwd"}, Time: h.now()}
	} else if err := whatIfPreAuthorization(ctx, req, user, t); err != nil {
		return err
	}
	grant := scopeGrant{scopes: in.Scopes}
	if err := h.checkUserPolicy(ctx, req, user, grant.scopes, grant.audience); err != nil {
		return err
	}
	if err := h.checkAccessPolicies(ctx, req, user, grant); err != nil {
		return err
	}
	sub, err := h.userSubject(ctx, req.client, user)
	if err != nil {
		return err
	}
	aud, err := h.userAudience(ctx, req, grant.scopes)
	if err != nil {
		return err
	}
	// The same mapped claims as issueUserTokens.
	set, err := h.mappedClaims(ctx, req, user, scopeGrant{scopes: grant.scopes, audience: aud})
	if err != nil {
		return err
	}
	now := h.now().Truncate(time.Second)
	ttl := h.accessTokenTTL(req.ws, req.client)
	fam := storage.TokenFamily{ID: "(token family)", AuthTime: now}
	at := withMappedClaims(h.userAccessToken(req, fam, sub, aud, grant.scopes, now, ttl), req.client, set)
	if res.AccessToken, err = at.ClaimSet(); err != nil {
		return claimsErr(err)
	}
	if slices.Contains(grant.scopes, oidc.ScopeOpenID) {
		// No at_hash: no access token is minted.
		content := idTokenContent(req, fam, user, sub, "", "", now, idTokenTTL(req.client, ttl))
		content.Claims = withIDTokenClaims(content.Claims, set[policy.TargetIDToken])
		if res.IDToken, err = content.ClaimSet(""); err != nil {
			return claimsErr(err)
		}
	}
	return nil
}

// whatIfPreAuthorization is the JWT bearer grant's pre-authorization
// stage, before the user policy as in jwtBearer: the client's settings as
// the profiles template, each rule's result, and the grant's own error on
// a refusal.
func whatIfPreAuthorization(ctx context.Context, req *request, user storage.User, t *tracer) error {
	d, rules, view := preAuthorizations.Trace(ctx, req.client, user)
	t.out = append(t.out, PolicyTrace{
		Policy: storage.Policy{WorkspaceID: req.ws.ID, Name: "JWT bearer pre-authorization", Rules: view.Rules},
		Kind:   KindPreAuthorization, Template: view.Template, Params: view.Params, Decision: d, Rules: rules,
	})
	if !d.Allow {
		return errNotPreAuthorized
	}
	return nil
}

func claimsErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("grants: what-if claims: %w", err)
}
