package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// DefaultWorkspaceID is the workspace created on first start.
const DefaultWorkspaceID = "default"

// workspaceIDPattern keeps IDs usable as one URL path segment of the issuer.
var workspaceIDPattern = lazyRegexp(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Bounds of workspace settings.
const (
	MinAccessTokenTTL       = time.Minute
	MaxAccessTokenTTL       = 24 * time.Hour
	minAssertionLifetime    = 10 * time.Second
	maxAssertionLifetime    = time.Hour
	minKeyRotationPeriod    = time.Hour
	maxKeyRotationPeriod    = 5 * 365 * 24 * time.Hour
	maxNameLength           = 200
	maxDescriptionLength    = 2000
	maxWorkspaceListForLast = 2
)

// Bounds of the PAR request_uri lifetime. RFC 9126 §2.2: a request_uri
// lives long enough for the browser to reach the authorization endpoint
// and no longer; 5 to 600 s is the RFC's guidance, and FAPI 2.0 Security
// Profile §5.3.2.2 item 12 wants expires_in below 600 (package fapi).
const (
	MinPushedRequestTTL     = 10 * time.Second
	MaxPushedRequestTTL     = 600 * time.Second
	DefaultPushedRequestTTL = 60 * time.Second // authorize.DefaultPushedRequestTTL
)

// WorkspaceInput creates a workspace. Zero settings take server defaults.
type WorkspaceInput struct {
	ID       string
	Name     string
	Enabled  *bool // nil: enabled
	Settings storage.WorkspaceSettings
	// StrictAssertionAudience overrides Settings.StrictAssertionAudience
	// when set; nil takes the server default (a plain bool cannot say
	// "not given").
	StrictAssertionAudience *bool
}

// WorkspacePatch updates a workspace; nil fields are left unchanged.
type WorkspacePatch struct {
	Name                    *string
	Enabled                 *bool
	AccessTokenTTL          *time.Duration
	AllowedAuthMethods      *[]string
	SigningAlg              *string
	KeyRotationPeriod       *time.Duration
	MaxAssertionLifetime    *time.Duration
	StrictAssertionAudience *bool
	// DPoPNonce sets Settings.DPoPNonce (RFC 9449 §8).
	DPoPNonce *bool
	// RequirePushedAuthorizationRequests sets the setting (RFC 9126 §5).
	RequirePushedAuthorizationRequests *bool
	// PushedRequestTTL sets Settings.PushedRequestTTL (RFC 9126 §2.2);
	// 0 returns to the server default.
	PushedRequestTTL *time.Duration
	// FAPIProfile sets Settings.FAPIProfile (package fapi).
	FAPIProfile *string
	// Branding replaces the workspace's branding as a whole; an empty
	// Branding removes it (the pages use their defaults).
	Branding *storage.Branding
	// BrandingFields changes single branding fields after Branding is
	// applied (the admin API's PATCH merges members this way).
	BrandingFields *BrandingPatch
}

// CreateWorkspace validates in, stores the workspace and creates its
// signing keys (an active key and a pre-published next key).
func (s *Service) CreateWorkspace(ctx context.Context, in WorkspaceInput) (storage.Workspace, error) {
	settings := s.fillSettings(in.Settings)
	if in.StrictAssertionAudience != nil {
		settings.StrictAssertionAudience = *in.StrictAssertionAudience
	}
	var v validator
	if v.required("id", in.ID) {
		v.check(workspaceIDPattern.MatchString(in.ID), "id", "pattern",
			"must be 1-63 lowercase letters, digits or '-', starting with a letter or digit")
	}
	validateName(&v, "name", in.Name)
	validateSettings(&v, settings)
	if err := v.err(); err != nil {
		return storage.Workspace{}, err
	}
	settings.Branding = normalizeBranding(settings.Branding)
	now := s.now()
	w := storage.Workspace{
		ID: in.ID, Name: in.Name, Enabled: in.Enabled == nil || *in.Enabled,
		Settings: settings, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.Store.CreateWorkspace(ctx, w); err != nil {
		return storage.Workspace{}, mapStore(err, "workspace", in.ID)
	}
	if err := s.Keys.EnsureKeys(ctx, w.ID, settings.SigningAlg); err != nil {
		return storage.Workspace{}, fmt.Errorf("service: create keys of workspace %q: %w", w.ID, err)
	}
	s.audit(ctx, w.ID, AuditWorkspaceCreate, TargetWorkspace, w.ID, map[string]any{"name": w.Name})
	return w, nil
}

// fillSettings replaces zero settings with the server defaults.
func (s *Service) fillSettings(st storage.WorkspaceSettings) storage.WorkspaceSettings {
	d := s.defaults()
	if st.AccessTokenTTL == 0 {
		st.AccessTokenTTL = d.AccessTokenTTL
	}
	if st.SigningAlg == "" {
		st.SigningAlg = d.SigningAlg
	}
	if st.MaxAssertionLifetime == 0 {
		st.MaxAssertionLifetime = d.MaxAssertionLifetime
	}
	switch {
	case st.KeyRotationPeriod == 0:
		st.KeyRotationPeriod = d.KeyRotationPeriod
	case st.KeyRotationPeriod < 0: // explicit "never rotate on a schedule"
		st.KeyRotationPeriod = 0
	}
	st.StrictAssertionAudience = st.StrictAssertionAudience || d.StrictAssertionAudience
	return st
}

func validateName(v *validator, field, name string) {
	if v.required(field, name) && v.maxLen(field, name, maxNameLength) {
		v.identifier(field, name)
	}
}

func validateSettings(v *validator, st storage.WorkspaceSettings) {
	v.check(st.AccessTokenTTL >= MinAccessTokenTTL && st.AccessTokenTTL <= MaxAccessTokenTTL,
		"settings.access_token_ttl", "range", "must be between %s and %s", MinAccessTokenTTL, MaxAccessTokenTTL)
	v.check(contains(oauth2.SigningAlgs, st.SigningAlg), "settings.signing_alg", "enum",
		"must be one of %v", oauth2.SigningAlgs)
	v.check(st.MaxAssertionLifetime >= minAssertionLifetime && st.MaxAssertionLifetime <= maxAssertionLifetime,
		"settings.max_assertion_lifetime", "range", "must be between %s and %s", minAssertionLifetime, maxAssertionLifetime)
	// Zero means "no scheduled rotation" (storage.WorkspaceSettings).
	v.check(st.KeyRotationPeriod == 0 || (st.KeyRotationPeriod >= minKeyRotationPeriod && st.KeyRotationPeriod <= maxKeyRotationPeriod),
		"settings.key_rotation_period", "range", "must be 0 (no scheduled rotation) or between %s and %s",
		minKeyRotationPeriod, maxKeyRotationPeriod)
	// Zero means the server default (storage.WorkspaceSettings).
	v.check(st.PushedRequestTTL == 0 || (st.PushedRequestTTL >= MinPushedRequestTTL && st.PushedRequestTTL <= MaxPushedRequestTTL),
		"settings.pushed_request_ttl", "range", "must be 0 (the default, 60s) or between %s and %s",
		MinPushedRequestTTL, MaxPushedRequestTTL)
	validateAuthMethodList(v, "settings.allowed_auth_methods", st.AllowedAuthMethods)
	validateBranding(v, st.Branding)
	validateFAPISettings(v, st) // FAPI 2.0 (fapi.go)
}

// EffectivePushedRequestTTL is the request_uri lifetime the PAR endpoint
// uses for a workspace with st (authorize.PushedRequestTTL).
func EffectivePushedRequestTTL(st storage.WorkspaceSettings) time.Duration {
	if st.PushedRequestTTL > 0 {
		return st.PushedRequestTTL
	}
	return DefaultPushedRequestTTL
}

func validateAuthMethodList(v *validator, field string, methods []string) {
	if !v.maxItems(field, len(methods), len(oauth2.AllAuthMethods)) {
		return
	}
	seen := map[string]bool{}
	for i, m := range methods {
		f := fmt.Sprintf("%s[%d]", field, i)
		v.check(contains(oauth2.AllAuthMethods, m), f, "enum", "must be one of %v", oauth2.AllAuthMethods)
		v.check(!seen[m], f, "unique", "duplicate value %q", m)
		seen[m] = true
	}
}

// GetWorkspace returns one workspace.
func (s *Service) GetWorkspace(ctx context.Context, id string) (storage.Workspace, error) {
	return s.requireWorkspace(ctx, id)
}

// ListWorkspaces returns one page of workspaces ordered by ID.
func (s *Service) ListWorkspaces(ctx context.Context, opts storage.ListOptions) (storage.Page[storage.Workspace], error) {
	return s.Store.ListWorkspaces(ctx, opts)
}

// UpdateWorkspace applies p. Changing the signing algorithm rotates the
// keys so that a key of the new algorithm is published at once (it signs
// after the next rotation promotes it: SECURITY.md P2 pre-publication).
func (s *Service) UpdateWorkspace(ctx context.Context, id string, p WorkspacePatch) (storage.Workspace, error) {
	if p.FAPIProfile != nil {
		// Turning FAPI 2.0 on is refused while clients break it (fapi.go).
		if err := s.checkFAPIClients(ctx, id, *p.FAPIProfile); err != nil {
			return storage.Workspace{}, err
		}
	}
	var oldAlg string
	w, err := s.Store.UpdateWorkspace(ctx, id, func(w storage.Workspace) (storage.Workspace, error) {
		oldAlg = w.Settings.SigningAlg
		w = applyWorkspacePatch(w, p)
		var v validator
		validateName(&v, "name", w.Name)
		validateSettings(&v, w.Settings)
		if err := v.err(); err != nil {
			return w, err
		}
		w.Settings.Branding = normalizeBranding(w.Settings.Branding)
		w.UpdatedAt = s.now()
		return w, nil
	})
	if err != nil {
		return storage.Workspace{}, mapStore(err, "workspace", id)
	}
	s.audit(ctx, id, AuditWorkspaceUpdate, TargetWorkspace, id, map[string]any{"fields": workspacePatchFields(p)})
	if w.Settings.SigningAlg != oldAlg {
		if err := s.Keys.Rotate(ctx, id, w.Settings.SigningAlg); err != nil {
			return w, fmt.Errorf("service: rotate keys of workspace %q to %s: %w", id, w.Settings.SigningAlg, err)
		}
	}
	return w, nil
}

func applyWorkspacePatch(w storage.Workspace, p WorkspacePatch) storage.Workspace {
	if p.Name != nil {
		w.Name = *p.Name
	}
	if p.Enabled != nil {
		w.Enabled = *p.Enabled
	}
	st := &w.Settings
	if p.AccessTokenTTL != nil {
		st.AccessTokenTTL = *p.AccessTokenTTL
	}
	if p.AllowedAuthMethods != nil {
		st.AllowedAuthMethods = append([]string(nil), (*p.AllowedAuthMethods)...)
	}
	if p.SigningAlg != nil {
		st.SigningAlg = *p.SigningAlg
	}
	if p.KeyRotationPeriod != nil {
		st.KeyRotationPeriod = max(*p.KeyRotationPeriod, 0)
	}
	if p.MaxAssertionLifetime != nil {
		st.MaxAssertionLifetime = *p.MaxAssertionLifetime
	}
	if p.StrictAssertionAudience != nil {
		st.StrictAssertionAudience = *p.StrictAssertionAudience
	}
	if p.DPoPNonce != nil {
		st.DPoPNonce = *p.DPoPNonce
	}
	if p.RequirePushedAuthorizationRequests != nil {
		st.RequirePushedAuthorizationRequests = *p.RequirePushedAuthorizationRequests
	}
	if p.PushedRequestTTL != nil {
		st.PushedRequestTTL = *p.PushedRequestTTL
	}
	if p.FAPIProfile != nil {
		st.FAPIProfile = *p.FAPIProfile
	}
	if p.Branding != nil {
		b := *p.Branding
		st.Branding = &b
	}
	if p.BrandingFields != nil {
		st.Branding = p.BrandingFields.apply(st.Branding)
	}
	return w
}

// DeleteWorkspace removes a workspace and everything in it. Deleting the
// last workspace is refused: the server would have no issuer left. The
// store ends every admin token's power over the workspace in the same
// transaction, so that a workspace re-created with this ID is reached by
// none of them (docs/security.md O2, O5); the token changes are audited.
func (s *Service) DeleteWorkspace(ctx context.Context, id string) error {
	if _, err := s.requireWorkspace(ctx, id); err != nil {
		return err
	}
	page, err := s.Store.ListWorkspaces(ctx, storage.ListOptions{Limit: maxWorkspaceListForLast})
	if err != nil {
		return err
	}
	if len(page.Items) < maxWorkspaceListForLast && page.Next == "" {
		return conflict(nil, "workspace %q is the last workspace and cannot be deleted", id)
	}
	tokens, err := s.adminTokensOf(ctx, id)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteWorkspace(ctx, id); err != nil {
		return mapStore(err, "workspace", id)
	}
	s.audit(ctx, id, AuditWorkspaceDelete, TargetWorkspace, id, nil)
	s.auditAdminTokensOfDeletedWorkspace(ctx, id, tokens)
	return nil
}

// EnsureDefault creates the "default" workspace and its keys when missing.
// It is idempotent and safe when several processes start at once.
func (s *Service) EnsureDefault(ctx context.Context) (storage.Workspace, error) {
	w, err := s.Store.GetWorkspace(ctx, DefaultWorkspaceID)
	if errors.Is(err, storage.ErrNotFound) {
		w, err = s.CreateWorkspace(ctx, WorkspaceInput{ID: DefaultWorkspaceID, Name: "Default"})
		if errors.Is(err, ErrConflict) { // another process won the race
			w, err = s.Store.GetWorkspace(ctx, DefaultWorkspaceID)
		}
	}
	if err != nil {
		return storage.Workspace{}, err
	}
	if err := s.Keys.EnsureKeys(ctx, w.ID, w.Settings.SigningAlg); err != nil {
		return storage.Workspace{}, fmt.Errorf("service: ensure keys of workspace %q: %w", w.ID, err)
	}
	return w, nil
}

func workspacePatchFields(p WorkspacePatch) []string {
	return setFields("name", p.Name != nil, "enabled", p.Enabled != nil,
		"settings.access_token_ttl", p.AccessTokenTTL != nil, "settings.allowed_auth_methods", p.AllowedAuthMethods != nil,
		"settings.signing_alg", p.SigningAlg != nil, "settings.key_rotation_period", p.KeyRotationPeriod != nil,
		"settings.max_assertion_lifetime", p.MaxAssertionLifetime != nil,
		"settings.strict_assertion_audience", p.StrictAssertionAudience != nil,
		"settings.dpop_nonce", p.DPoPNonce != nil,
		"settings.require_pushed_authorization_requests", p.RequirePushedAuthorizationRequests != nil,
		"settings.pushed_request_ttl", p.PushedRequestTTL != nil,
		"settings.fapi_profile", p.FAPIProfile != nil,
		"settings.branding", p.Branding != nil || p.BrandingFields != nil)
}
