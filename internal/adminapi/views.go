package adminapi

import (
	"encoding/json"
	"time"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// The JSON documents of the API are the types of package adminclient, so
// the server, the CLI and Go users share one contract, which the tests
// hold against openapi.yaml. The request types here are defined on those
// types only to carry the conversions to the service layer's inputs.

// Durations travel as whole seconds. Values beyond maxSeconds are clamped
// (not wrapped by overflow) so that validation rejects them.
const maxSeconds = 1 << 32

func seconds(n int64) time.Duration {
	n = min(max(n, -maxSeconds), maxSeconds)
	return time.Duration(n) * time.Second
}

func secondsPtr(n *int64) *time.Duration {
	if n == nil {
		return nil
	}
	d := seconds(*n)
	return &d
}

func toSeconds(d time.Duration) int64 { return int64(d / time.Second) }

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// --- workspaces

func (h *Handler) workspaceView(w storage.Workspace) adminclient.Workspace {
	st := w.Settings
	out := adminclient.Workspace{
		ID: w.ID, Name: w.Name, Enabled: w.Enabled, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
		Settings: adminclient.Settings{
			AccessTokenTTL: toSeconds(st.AccessTokenTTL), AllowedAuthMethods: nonNil(st.AllowedAuthMethods),
			SigningAlg: st.SigningAlg, KeyRotationPeriod: toSeconds(st.KeyRotationPeriod),
			MaxAssertionLifetime:    toSeconds(st.MaxAssertionLifetime),
			StrictAssertionAudience: st.StrictAssertionAudience, Branding: brandingView(st.Branding),
			DPoPNonce: st.DPoPNonce, RequirePushedAuthorizationRequests: st.RequirePushedAuthorizationRequests,
			PushedRequestTTL: toSeconds(service.EffectivePushedRequestTTL(st)),
			FAPIProfile:      st.FAPIProfile,
		},
	}
	if h.BaseURL != "" {
		out.Issuer = h.BaseURL + "/w/" + w.ID
	}
	return out
}

type workspaceRequest adminclient.WorkspaceRequest

func (req workspaceRequest) input() service.WorkspaceInput {
	p := req.patch()
	in := service.WorkspaceInput{ID: deref(req.ID), Name: deref(req.Name), Enabled: req.Enabled,
		StrictAssertionAudience: p.StrictAssertionAudience}
	st := &in.Settings
	if p.AccessTokenTTL != nil {
		st.AccessTokenTTL = *p.AccessTokenTTL
	}
	if p.AllowedAuthMethods != nil {
		st.AllowedAuthMethods = *p.AllowedAuthMethods
	}
	st.SigningAlg = deref(p.SigningAlg)
	if p.KeyRotationPeriod != nil {
		// On create 0 means "server default"; send a negative value for
		// "no scheduled rotation".
		st.KeyRotationPeriod = *p.KeyRotationPeriod
	}
	if p.MaxAssertionLifetime != nil {
		st.MaxAssertionLifetime = *p.MaxAssertionLifetime
	}
	st.DPoPNonce = deref(p.DPoPNonce)
	st.RequirePushedAuthorizationRequests = deref(p.RequirePushedAuthorizationRequests)
	if p.PushedRequestTTL != nil {
		st.PushedRequestTTL = *p.PushedRequestTTL
	}
	st.FAPIProfile = deref(p.FAPIProfile)
	if req.Settings != nil && req.Settings.Branding != nil {
		st.Branding = brandingValue(req.Settings.Branding)
	}
	return in
}

func (req workspaceRequest) patch() service.WorkspacePatch {
	p := service.WorkspacePatch{Name: req.Name, Enabled: req.Enabled}
	if s := req.Settings; s != nil {
		p.AccessTokenTTL = secondsPtr(s.AccessTokenTTL)
		p.AllowedAuthMethods = s.AllowedAuthMethods
		p.SigningAlg = s.SigningAlg
		p.KeyRotationPeriod = secondsPtr(s.KeyRotationPeriod)
		p.MaxAssertionLifetime = secondsPtr(s.MaxAssertionLifetime)
		p.StrictAssertionAudience = s.StrictAssertionAudience
		p.DPoPNonce = s.DPoPNonce
		p.RequirePushedAuthorizationRequests = s.RequirePushedAuthorizationRequests
		p.PushedRequestTTL = secondsPtr(s.PushedRequestTTL)
		p.FAPIProfile = s.FAPIProfile
		if s.Branding != nil {
			p.BrandingFields = brandingPatch(s.Branding)
		}
	}
	return p
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// --- services

func serviceView(s storage.Service) adminclient.Service {
	scopes := make([]adminclient.Scope, len(s.Scopes))
	for i, sc := range s.Scopes {
		scopes[i] = adminclient.Scope(sc)
	}
	return adminclient.Service{ID: s.ID, Name: s.Name, Description: s.Description, Identifier: s.Identifier,
		Scopes: scopes, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
		AuthorizationDetailTypes: detailTypesView(s.AuthorizationDetailTypes)}
}

type serviceRequest adminclient.ServiceRequest

func (req serviceRequest) scopes() *[]storage.Scope {
	if req.Scopes == nil {
		return nil
	}
	out := make([]storage.Scope, len(*req.Scopes))
	for i, sc := range *req.Scopes {
		out[i] = storage.Scope(sc)
	}
	return &out
}

func (req serviceRequest) input() service.ServiceInput {
	return service.ServiceInput{ID: deref(req.ID), Name: deref(req.Name), Description: deref(req.Description),
		Identifier: deref(req.Identifier), Scopes: deref(req.scopes()),
		AuthorizationDetailTypes: deref(req.detailTypes())}
}

func (req serviceRequest) checkID(pathID string) error { return checkSameID(req.ID, pathID) }

func (req serviceRequest) patch() service.ServicePatch {
	return service.ServicePatch{Name: req.Name, Description: req.Description, Identifier: req.Identifier, Scopes: req.scopes(),
		AuthorizationDetailTypes: req.detailTypes()}
}

// --- clients

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func clientView(c storage.Client) adminclient.OAuthClient {
	md := c.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return adminclient.OAuthClient{
		ClientID: c.ID, Name: c.Name, Description: c.Description, ContactEmail: c.ContactEmail, Type: c.Type,
		ApplicationType: service.EffectiveApplicationType(c), Enabled: c.Enabled, GrantTypes: nonNil(c.GrantTypes), ResponseTypes: nonNil(c.ResponseTypes),
		RedirectURIs: nonNil(c.RedirectURIs), Scopes: nonNil(c.Scopes),
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod, TokenEndpointAuthSigningAlg: c.TokenEndpointAuthSigningAlg,
		JWKS: json.RawMessage(c.JWKS), JWKSURI: c.JWKSURI, AccessTokenTTL: toSeconds(c.AccessTokenTTL),
		Metadata: md, Dynamic: c.Dynamic, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Warnings: service.SubjectFormatWarnings(c), ClientFlow: clientFlowView(c),
	}
}

// clientSecretView is the client with its secret: only create,
// rotate-secret and secret-issuing updates answer it (SECURITY.md D3).
func clientSecretView(c service.ClientWithSecret) adminclient.OAuthClient {
	v := clientView(c.Client)
	v.ClientSecret = c.Secret
	return v
}

type clientRequest adminclient.OAuthClientRequest

// patchJWKS reads a PATCH body's "jwks" member: absent is nil (keep the
// stored key set), null an empty set (clear it), anything else the new set.
func patchJWKS(raw json.RawMessage) *[]byte {
	switch {
	case len(raw) == 0:
		return nil
	case string(raw) == "null":
		empty := []byte{}
		return &empty
	}
	b := []byte(raw)
	return &b
}

func (req clientRequest) input() service.ClientInput {
	p := req.patch()
	in := service.ClientInput{
		ID: deref(req.ClientID), Name: deref(p.Name), Description: deref(p.Description),
		ContactEmail: deref(p.ContactEmail), Type: deref(p.Type), ApplicationType: deref(p.ApplicationType), Enabled: p.Enabled,
		GrantTypes: deref(p.GrantTypes), ResponseTypes: deref(p.ResponseTypes), RedirectURIs: deref(p.RedirectURIs),
		Scopes: deref(p.Scopes), TokenEndpointAuthMethod: deref(p.TokenEndpointAuthMethod),
		TokenEndpointAuthSigningAlg: deref(p.TokenEndpointAuthSigningAlg), JWKS: deref(p.JWKS),
		JWKSURI: deref(p.JWKSURI), AccessTokenTTL: deref(p.AccessTokenTTL), Metadata: deref(p.Metadata),
	}
	return clientFlow(req.ClientFlow).withFlow(in)
}

// checkID refuses a body that renames the client: client_id is permanent.
func (req clientRequest) checkID(pathID string) error {
	if req.ClientID != nil && *req.ClientID != pathID {
		return badRequest("client_id: cannot be changed")
	}
	return nil
}

func (req clientRequest) patch() service.ClientPatch {
	flow := clientFlow(req.ClientFlow)
	return service.ClientPatch{
		Name: req.Name, Description: req.Description, ContactEmail: req.ContactEmail, Type: req.Type,
		ApplicationType: req.ApplicationType, Enabled: req.Enabled, GrantTypes: req.GrantTypes, ResponseTypes: req.ResponseTypes,
		RedirectURIs: req.RedirectURIs, Scopes: req.Scopes, TokenEndpointAuthMethod: req.TokenEndpointAuthMethod,
		TokenEndpointAuthSigningAlg: req.TokenEndpointAuthSigningAlg, JWKS: patchJWKS(req.JWKS), JWKSURI: req.JWKSURI,
		AccessTokenTTL: secondsPtr(req.AccessTokenTTL), Metadata: req.Metadata,
		PresentationPatch: flow.presentationPatch(), AuthFlowPatch: flow.authFlowPatch(),
		TokenSettingsPatch: flow.tokenSettingsPatch(), SignedRequestPatch: flow.signedRequestPatch(),
		MTLSPatch: flow.mtlsPatch(), AuthorizationDetailsTypes: flow.AuthorizationDetailsTypes,
	}
}

// --- keys

func keyView(k service.KeyInfo) adminclient.Key {
	return adminclient.Key{KID: k.KID, Alg: k.Alg, State: k.State, CreatedAt: k.CreatedAt,
		ActivatedAt: timePtr(k.ActivatedAt), RetiredAt: timePtr(k.RetiredAt), RetireUntil: timePtr(k.RetireUntil)}
}

// --- initial access tokens

func policyView(p storage.RegistrationPolicy) adminclient.RegistrationPolicy {
	return adminclient.RegistrationPolicy{
		GrantTypes: nonNil(p.GrantTypes), Scopes: nonNil(p.Scopes), AuthMethods: nonNil(p.AuthMethods),
		ApplicationTypes: nonNil(p.ApplicationTypes), RedirectURIPatterns: nonNil(p.RedirectURIPatterns),
		AllowImpersonation: p.AllowImpersonation,
	}
}

func iatView(t storage.InitialAccessToken) adminclient.InitialAccessToken {
	v := adminclient.InitialAccessToken{ID: t.ID, Description: t.Description, ExpiresAt: timePtr(t.ExpiresAt),
		CreatedAt: t.CreatedAt, Policy: policyView(t.Policy)}
	if t.UsesLeft >= 0 {
		n := t.UsesLeft
		v.UsesLeft = &n
	}
	return v
}

type iatRequest adminclient.InitialAccessTokenRequest

// policy is the request's registration policy; absent or empty fields take
// the narrow defaults.
func (r iatRequest) policy() storage.RegistrationPolicy {
	if r.Policy == nil {
		return storage.RegistrationPolicy{}
	}
	return storage.RegistrationPolicy{
		GrantTypes: r.Policy.GrantTypes, Scopes: r.Policy.Scopes, AuthMethods: r.Policy.AuthMethods,
		ApplicationTypes: r.Policy.ApplicationTypes, RedirectURIPatterns: r.Policy.RedirectURIPatterns,
		AllowImpersonation: r.Policy.AllowImpersonation,
	}
}
