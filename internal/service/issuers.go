package service

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// Trusted issuer limits.
const (
	maxIssuerLength          = 2048
	maxIssuerAllowedClients  = 100
	MaxIssuerAssertionMaxTTL = 24 * time.Hour
	generatedIssuerIDLen     = 9
)

var claimNamePattern = lazyRegexp(`^[A-Za-z0-9_.:-]{1,64}$`)

// ClaimFormats are the identity mapping formats of a trusted issuer.
var ClaimFormats = []string{storage.ClaimFormatPlain, storage.ClaimFormatTenantUsername, storage.ClaimFormatEmail}

// TrustedIssuerInput creates a trusted external issuer.
// An empty ID is generated; Enabled defaults to true.
type TrustedIssuerInput struct {
	ID                   string
	Name                 string
	Issuer               string
	JWKSURI              string
	JWKS                 []byte
	Audience             string
	AllowedClients       []string
	MaxAssertionLifetime time.Duration
	Enabled              *bool
	ServiceUserID        string
	Claim                string
	ClaimFormat          string
}

// TrustedIssuerPatch updates a trusted issuer; nil fields are unchanged.
type TrustedIssuerPatch struct {
	Name                 *string
	Issuer               *string
	JWKSURI              *string
	JWKS                 *[]byte
	Audience             *string
	AllowedClients       *[]string
	MaxAssertionLifetime *time.Duration
	Enabled              *bool
	ServiceUserID        *string
	Claim                *string
	ClaimFormat          *string
}

// CreateTrustedIssuer validates and stores a trusted issuer.
func (s *Service) CreateTrustedIssuer(ctx context.Context, wsID string, in TrustedIssuerInput) (storage.TrustedIssuer, error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return storage.TrustedIssuer{}, err
	}
	if in.ID == "" {
		in.ID = "iss_" + randomToken(generatedIssuerIDLen)
	}
	now := s.now()
	ti := storage.TrustedIssuer{
		WorkspaceID: wsID, ID: in.ID, Name: in.Name, Issuer: in.Issuer, JWKSURI: in.JWKSURI, JWKS: in.JWKS,
		Audience: in.Audience, AllowedClients: in.AllowedClients, MaxAssertionLifetime: in.MaxAssertionLifetime,
		Enabled: in.Enabled == nil || *in.Enabled, ServiceUserID: in.ServiceUserID, Claim: in.Claim,
		ClaimFormat: in.ClaimFormat, CreatedAt: now, UpdatedAt: now,
	}
	var v validator
	v.check(userIDPattern.MatchString(ti.ID), "id", "pattern", "must be 1-128 letters, digits or '.', '_', '~', '-'")
	ti, err := s.checkTrustedIssuer(ctx, &v, ti)
	if err != nil {
		return storage.TrustedIssuer{}, err
	}
	if err := s.Store.CreateTrustedIssuer(ctx, ti); err != nil {
		return storage.TrustedIssuer{}, mapStore(err, "trusted issuer (id or issuer)", ti.Issuer)
	}
	s.audit(ctx, wsID, AuditIssuerCreate, TargetTrustedIssuer, ti.ID, map[string]any{"issuer": ti.Issuer})
	return ti, nil
}

// checkTrustedIssuer validates every field, normalizes defaults and checks
// that the named clients and the service user exist.
func (s *Service) checkTrustedIssuer(ctx context.Context, v *validator, ti storage.TrustedIssuer) (storage.TrustedIssuer, error) {
	validateName(v, "name", ti.Name)
	if v.required("issuer", ti.Issuer) {
		v.check(len(ti.Issuer) <= maxIssuerLength && !strings.ContainsAny(ti.Issuer, " \t\r\n"), "issuer", "format",
			"must be at most %d characters without whitespace", maxIssuerLength)
	}
	ti.JWKS = s.validateIssuerKeys(v, ti)
	v.maxLen("audience", ti.Audience, maxIssuerLength)
	v.check(ti.MaxAssertionLifetime >= 0 && ti.MaxAssertionLifetime <= MaxIssuerAssertionMaxTTL, "max_assertion_lifetime", "range",
		"must be between 0 (default 60m) and %s", MaxIssuerAssertionMaxTTL)
	ti = validateMapping(v, ti)
	if err := s.checkIssuerRefs(ctx, v, ti); err != nil {
		return ti, err
	}
	return ti, v.err()
}

func (s *Service) validateIssuerKeys(v *validator, ti storage.TrustedIssuer) []byte {
	hasJWKS, hasURI := len(ti.JWKS) > 0, ti.JWKSURI != ""
	switch {
	case hasJWKS && hasURI:
		v.add("jwks", "exclusive", "jwks and jwks_uri must not both be set")
	case !hasJWKS && !hasURI:
		v.add("jwks_uri", "required", "a jwks_uri or an inline jwks is required")
	case hasURI:
		s.validateJWKSURI(v, ti.JWKSURI)
	default:
		return normalizeJWKS(v, "jwks", ti.JWKS)
	}
	return ti.JWKS
}

// validateMapping: exactly one of a fixed service user and a claim.
func validateMapping(v *validator, ti storage.TrustedIssuer) storage.TrustedIssuer {
	switch {
	case ti.ServiceUserID != "" && ti.Claim != "":
		v.add("claim", "exclusive", "set either service_user_id or claim, not both")
	case ti.ServiceUserID == "" && ti.Claim == "":
		v.add("claim", "required", "set service_user_id or a claim to map assertions to a user")
	case ti.Claim != "":
		v.check(claimNamePattern.MatchString(ti.Claim), "claim", "pattern", "must be 1-64 letters, digits or '_', '.', ':', '-'")
		if ti.ClaimFormat == "" {
			ti.ClaimFormat = storage.ClaimFormatPlain
		}
		v.check(slices.Contains(ClaimFormats, ti.ClaimFormat), "claim_format", "enum", "must be one of %s", strings.Join(ClaimFormats, ", "))
	default:
		ti.ClaimFormat = ""
	}
	return ti
}

func (s *Service) checkIssuerRefs(ctx context.Context, v *validator, ti storage.TrustedIssuer) error {
	if v.maxItems("allowed_clients", len(ti.AllowedClients), maxIssuerAllowedClients) {
		for _, id := range ti.AllowedClients {
			if _, err := s.Store.GetClient(ctx, ti.WorkspaceID, id); err != nil {
				if !errors.Is(err, storage.ErrNotFound) {
					return err
				}
				v.add("allowed_clients", "exists", "client %q does not exist", truncate(id, 128))
			}
		}
	}
	if ti.ServiceUserID != "" {
		return s.checkServiceUser(ctx, v, ti.WorkspaceID, "service_user_id", ti.ServiceUserID)
	}
	return nil
}

// checkServiceUser requires id to name a service user of the workspace.
func (s *Service) checkServiceUser(ctx context.Context, v *validator, wsID, field, id string) error {
	u, err := s.Store.GetUser(ctx, wsID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		v.add(field, "exists", "user %q does not exist", truncate(id, 128))
	case err != nil:
		return err
	case !u.ServiceUser:
		v.add(field, "service_user", "user %q is not a service user", truncate(id, 128))
	}
	return nil
}

// GetTrustedIssuer returns one trusted issuer.
func (s *Service) GetTrustedIssuer(ctx context.Context, wsID, id string) (storage.TrustedIssuer, error) {
	ti, err := s.Store.GetTrustedIssuer(ctx, wsID, id)
	return ti, mapStore(err, "trusted issuer", id)
}

// ListTrustedIssuers returns one page of trusted issuers.
func (s *Service) ListTrustedIssuers(ctx context.Context, wsID string, opts storage.ListOptions) (storage.Page[storage.TrustedIssuer], error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return storage.Page[storage.TrustedIssuer]{}, err
	}
	return s.Store.ListTrustedIssuers(ctx, wsID, opts)
}

// UpdateTrustedIssuer applies a patch. The result is validated (with its
// references) before the update transaction, whose updater only
// re-applies the patch: an updater must not read the store.
func (s *Service) UpdateTrustedIssuer(ctx context.Context, wsID, id string, p TrustedIssuerPatch) (storage.TrustedIssuer, error) {
	cur, err := s.GetTrustedIssuer(ctx, wsID, id)
	if err != nil {
		return storage.TrustedIssuer{}, err
	}
	applyIssuerPatch(&cur, p)
	var v validator
	checked, err := s.checkTrustedIssuer(ctx, &v, cur)
	if err != nil {
		return storage.TrustedIssuer{}, err
	}
	now := s.now()
	out, err := s.Store.UpdateTrustedIssuer(ctx, wsID, id, func(ti storage.TrustedIssuer) (storage.TrustedIssuer, error) {
		applyIssuerPatch(&ti, p)
		ti.JWKS, ti.ClaimFormat = checked.JWKS, checked.ClaimFormat
		ti.UpdatedAt = now
		return ti, nil
	})
	if err != nil {
		return storage.TrustedIssuer{}, mapStore(err, "trusted issuer (issuer)", id)
	}
	s.audit(ctx, wsID, AuditIssuerUpdate, TargetTrustedIssuer, id, map[string]any{"fields": setFields(
		"name", p.Name != nil, "issuer", p.Issuer != nil, "jwks_uri", p.JWKSURI != nil, "jwks", p.JWKS != nil,
		"audience", p.Audience != nil, "allowed_clients", p.AllowedClients != nil,
		"max_assertion_lifetime", p.MaxAssertionLifetime != nil, "enabled", p.Enabled != nil,
		"service_user_id", p.ServiceUserID != nil, "claim", p.Claim != nil, "claim_format", p.ClaimFormat != nil)})
	return out, nil
}

func applyIssuerPatch(ti *storage.TrustedIssuer, p TrustedIssuerPatch) {
	setString(&ti.Name, p.Name)
	setString(&ti.Issuer, p.Issuer)
	setString(&ti.JWKSURI, p.JWKSURI)
	if p.JWKS != nil {
		ti.JWKS = *p.JWKS
	}
	setString(&ti.Audience, p.Audience)
	setList(&ti.AllowedClients, p.AllowedClients)
	if p.MaxAssertionLifetime != nil {
		ti.MaxAssertionLifetime = *p.MaxAssertionLifetime
	}
	if p.Enabled != nil {
		ti.Enabled = *p.Enabled
	}
	setString(&ti.ServiceUserID, p.ServiceUserID)
	setString(&ti.Claim, p.Claim)
	setString(&ti.ClaimFormat, p.ClaimFormat)
}

// DeleteTrustedIssuer removes a trusted issuer.
func (s *Service) DeleteTrustedIssuer(ctx context.Context, wsID, id string) error {
	if err := s.Store.DeleteTrustedIssuer(ctx, wsID, id); err != nil {
		return mapStore(err, "trusted issuer", id)
	}
	s.audit(ctx, wsID, AuditIssuerDelete, TargetTrustedIssuer, id, nil)
	return nil
}
