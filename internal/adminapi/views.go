package adminapi

import (
	"encoding/json"
	"time"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

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

type settingsJSON struct {
	AccessTokenTTL          int64        `json:"access_token_ttl"`
	AllowedAuthMethods      []string     `json:"allowed_auth_methods"`
	SigningAlg              string       `json:"signing_alg"`
	KeyRotationPeriod       int64        `json:"key_rotation_period"`
	MaxAssertionLifetime    int64        `json:"max_assertion_lifetime"`
	StrictAssertionAudience bool         `json:"strict_assertion_audience"`
	Branding                brandingJSON `json:"branding"`
}

type workspaceJSON struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Enabled   bool         `json:"enabled"`
	Issuer    string       `json:"issuer,omitempty"`
	Settings  settingsJSON `json:"settings"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
}

func (h *Handler) workspaceView(w storage.Workspace) workspaceJSON {
	st := w.Settings
	methods := st.AllowedAuthMethods
	if methods == nil {
		methods = []string{}
	}
	out := workspaceJSON{
		ID: w.ID, Name: w.Name, Enabled: w.Enabled, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
		Settings: settingsJSON{
			AccessTokenTTL: toSeconds(st.AccessTokenTTL), AllowedAuthMethods: methods, SigningAlg: st.SigningAlg,
			KeyRotationPeriod: toSeconds(st.KeyRotationPeriod), MaxAssertionLifetime: toSeconds(st.MaxAssertionLifetime),
			StrictAssertionAudience: st.StrictAssertionAudience, Branding: brandingView(st.Branding),
		},
	}
	if h.BaseURL != "" {
		out.Issuer = h.BaseURL + "/w/" + w.ID
	}
	return out
}

type settingsRequest struct {
	AccessTokenTTL          *int64           `json:"access_token_ttl"`
	AllowedAuthMethods      *[]string        `json:"allowed_auth_methods"`
	SigningAlg              *string          `json:"signing_alg"`
	KeyRotationPeriod       *int64           `json:"key_rotation_period"`
	MaxAssertionLifetime    *int64           `json:"max_assertion_lifetime"`
	StrictAssertionAudience *bool            `json:"strict_assertion_audience"`
	Branding                *brandingRequest `json:"branding"`
}

type workspaceRequest struct {
	ID       *string          `json:"id"`
	Name     *string          `json:"name"`
	Enabled  *bool            `json:"enabled"`
	Settings *settingsRequest `json:"settings"`
}

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
	if req.Settings != nil && req.Settings.Branding != nil {
		st.Branding = req.Settings.Branding.branding()
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
		if s.Branding != nil {
			p.BrandingFields = s.Branding.patch()
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

type scopeJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type serviceJSON struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Identifier  string      `json:"identifier"`
	Scopes      []scopeJSON `json:"scopes"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

func serviceView(s storage.Service) serviceJSON {
	scopes := make([]scopeJSON, len(s.Scopes))
	for i, sc := range s.Scopes {
		scopes[i] = scopeJSON(sc)
	}
	return serviceJSON{ID: s.ID, Name: s.Name, Description: s.Description, Identifier: s.Identifier,
		Scopes: scopes, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

type serviceRequest struct {
	ID          *string      `json:"id"`
	Name        *string      `json:"name"`
	Description *string      `json:"description"`
	Identifier  *string      `json:"identifier"`
	Scopes      *[]scopeJSON `json:"scopes"`
}

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
		Identifier: deref(req.Identifier), Scopes: deref(req.scopes())}
}

func (req serviceRequest) checkID(pathID string) error { return checkSameID(req.ID, pathID) }

func (req serviceRequest) patch() service.ServicePatch {
	return service.ServicePatch{Name: req.Name, Description: req.Description, Identifier: req.Identifier, Scopes: req.scopes()}
}

// --- clients

type clientJSON struct {
	ClientID                    string            `json:"client_id"`
	Name                        string            `json:"name"`
	Description                 string            `json:"description"`
	ContactEmail                string            `json:"contact_email"`
	Type                        string            `json:"type"`
	Enabled                     bool              `json:"enabled"`
	GrantTypes                  []string          `json:"grant_types"`
	ResponseTypes               []string          `json:"response_types"`
	RedirectURIs                []string          `json:"redirect_uris"`
	Scopes                      []string          `json:"scopes"`
	TokenEndpointAuthMethod     string            `json:"token_endpoint_auth_method"`
	TokenEndpointAuthSigningAlg string            `json:"token_endpoint_auth_signing_alg,omitempty"`
	JWKS                        json.RawMessage   `json:"jwks,omitempty"`
	JWKSURI                     string            `json:"jwks_uri,omitempty"`
	AccessTokenTTL              int64             `json:"access_token_ttl"`
	Metadata                    map[string]string `json:"metadata"`
	Dynamic                     bool              `json:"dynamic,omitempty"`
	CreatedAt                   time.Time         `json:"created_at"`
	UpdatedAt                   time.Time         `json:"updated_at"`
	// ClientSecret is present only in create, rotate-secret and (when a
	// first secret was issued) update responses (SECURITY.md D3).
	ClientSecret string `json:"client_secret,omitempty"`
	clientFlowJSON
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func clientView(c storage.Client) clientJSON {
	md := c.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return clientJSON{
		ClientID: c.ID, Name: c.Name, Description: c.Description, ContactEmail: c.ContactEmail, Type: c.Type,
		Enabled: c.Enabled, GrantTypes: nonNil(c.GrantTypes), ResponseTypes: nonNil(c.ResponseTypes),
		RedirectURIs: nonNil(c.RedirectURIs), Scopes: nonNil(c.Scopes),
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod, TokenEndpointAuthSigningAlg: c.TokenEndpointAuthSigningAlg,
		JWKS: json.RawMessage(c.JWKS), JWKSURI: c.JWKSURI, AccessTokenTTL: toSeconds(c.AccessTokenTTL),
		Metadata: md, Dynamic: c.Dynamic, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		clientFlowJSON: clientFlowView(c),
	}
}

func clientSecretView(c service.ClientWithSecret) clientJSON {
	v := clientView(c.Client)
	v.ClientSecret = c.Secret
	return v
}

type clientRequest struct {
	ClientID                    *string            `json:"client_id"`
	Name                        *string            `json:"name"`
	Description                 *string            `json:"description"`
	ContactEmail                *string            `json:"contact_email"`
	Type                        *string            `json:"type"`
	Enabled                     *bool              `json:"enabled"`
	GrantTypes                  *[]string          `json:"grant_types"`
	ResponseTypes               *[]string          `json:"response_types"`
	RedirectURIs                *[]string          `json:"redirect_uris"`
	Scopes                      *[]string          `json:"scopes"`
	TokenEndpointAuthMethod     *string            `json:"token_endpoint_auth_method"`
	TokenEndpointAuthSigningAlg *string            `json:"token_endpoint_auth_signing_alg"`
	JWKS                        json.RawMessage    `json:"jwks"` // absent: unchanged; null: cleared
	JWKSURI                     *string            `json:"jwks_uri"`
	AccessTokenTTL              *int64             `json:"access_token_ttl"`
	Metadata                    *map[string]string `json:"metadata"`
	clientFlowJSON
}

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
		ContactEmail: deref(p.ContactEmail), Type: deref(p.Type), Enabled: p.Enabled,
		GrantTypes: deref(p.GrantTypes), ResponseTypes: deref(p.ResponseTypes), RedirectURIs: deref(p.RedirectURIs),
		Scopes: deref(p.Scopes), TokenEndpointAuthMethod: deref(p.TokenEndpointAuthMethod),
		TokenEndpointAuthSigningAlg: deref(p.TokenEndpointAuthSigningAlg), JWKS: deref(p.JWKS),
		JWKSURI: deref(p.JWKSURI), AccessTokenTTL: deref(p.AccessTokenTTL), Metadata: deref(p.Metadata),
	}
	return req.withFlow(in)
}

// checkID refuses a body that renames the client: client_id is permanent.
func (req clientRequest) checkID(pathID string) error {
	if req.ClientID != nil && *req.ClientID != pathID {
		return badRequest("client_id: cannot be changed")
	}
	return nil
}

func (req clientRequest) patch() service.ClientPatch {
	return service.ClientPatch{
		Name: req.Name, Description: req.Description, ContactEmail: req.ContactEmail, Type: req.Type,
		Enabled: req.Enabled, GrantTypes: req.GrantTypes, ResponseTypes: req.ResponseTypes,
		RedirectURIs: req.RedirectURIs, Scopes: req.Scopes, TokenEndpointAuthMethod: req.TokenEndpointAuthMethod,
		TokenEndpointAuthSigningAlg: req.TokenEndpointAuthSigningAlg, JWKS: patchJWKS(req.JWKS), JWKSURI: req.JWKSURI,
		AccessTokenTTL: secondsPtr(req.AccessTokenTTL), Metadata: req.Metadata,
		PresentationPatch: req.presentationPatch(), AuthFlowPatch: req.authFlowPatch(),
	}
}

// --- keys

type keyJSON struct {
	KID         string     `json:"kid"`
	Alg         string     `json:"alg"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	RetireUntil *time.Time `json:"retire_until,omitempty"`
}

func keyView(k service.KeyInfo) keyJSON {
	return keyJSON{KID: k.KID, Alg: k.Alg, State: k.State, CreatedAt: k.CreatedAt,
		ActivatedAt: timePtr(k.ActivatedAt), RetiredAt: timePtr(k.RetiredAt), RetireUntil: timePtr(k.RetireUntil)}
}

type rotateRequest struct {
	Alg string `json:"alg"`
}

// --- initial access tokens

type iatJSON struct {
	ID          string     `json:"id"`
	Description string     `json:"description"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	// UsesLeft is null for unlimited tokens.
	UsesLeft  *int      `json:"uses_left"`
	CreatedAt time.Time `json:"created_at"`
	// Policy limits what registrations with the token may ask for.
	Policy policyJSON `json:"policy"`
	// Token is the bearer value, present only in the create response.
	Token string `json:"token,omitempty"`
}

// policyJSON is a registration policy (docs/security.md R2). In responses
// every list is present; an empty one means "no restriction", except
// grant_types, which is always filled.
type policyJSON struct {
	GrantTypes          []string `json:"grant_types"`
	Scopes              []string `json:"scopes"`
	AuthMethods         []string `json:"auth_methods"`
	ApplicationTypes    []string `json:"application_types"`
	RedirectURIPatterns []string `json:"redirect_uri_patterns"`
	AllowImpersonation  bool     `json:"allow_impersonation"`
}

func policyView(p storage.RegistrationPolicy) policyJSON {
	return policyJSON{
		GrantTypes: emptyIfNil(p.GrantTypes), Scopes: emptyIfNil(p.Scopes), AuthMethods: emptyIfNil(p.AuthMethods),
		ApplicationTypes: emptyIfNil(p.ApplicationTypes), RedirectURIPatterns: emptyIfNil(p.RedirectURIPatterns),
		AllowImpersonation: p.AllowImpersonation,
	}
}

func emptyIfNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func iatView(t storage.InitialAccessToken) iatJSON {
	v := iatJSON{ID: t.ID, Description: t.Description, ExpiresAt: timePtr(t.ExpiresAt), CreatedAt: t.CreatedAt,
		Policy: policyView(t.Policy)}
	if t.UsesLeft >= 0 {
		n := t.UsesLeft
		v.UsesLeft = &n
	}
	return v
}

type iatRequest struct {
	Description string `json:"description"`
	ExpiresIn   int64  `json:"expires_in"`
	MaxUses     int    `json:"max_uses"`
	// Policy is optional; absent or empty fields take the narrow defaults.
	Policy *policyJSON `json:"policy"`
}

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
