package service

import (
	"context"
	"fmt"

	"github.com/latchkey/latchkey/internal/storage"
)

var (
	// scopeNamePattern allows URL-like scopes ("https://api.example/read").
	scopeNamePattern = lazyRegexp(`^[A-Za-z0-9_.:/-]{1,128}$`)
	// serviceIDPattern keeps service IDs usable as one URL path segment.
	serviceIDPattern = lazyRegexp(`^[A-Za-z0-9._~-]{1,128}$`)
)

// Limits of services.
const (
	MaxScopesPerService   = 500
	maxIdentifierLength   = 2048
	maxScopeDescLength    = 1000
	generatedServiceIDLen = 12 // random bytes → 16 base64url characters
)

// ServiceInput creates a service (resource server). An empty ID is generated.
type ServiceInput struct {
	ID          string
	Name        string
	Description string
	// Identifier is the audience (aud) of tokens carrying its scopes.
	Identifier string
	Scopes     []storage.Scope
	// AuthorizationDetailTypes are the RFC 9396 types the service
	// accepts, each with a JSON Schema (authzdetails.go).
	AuthorizationDetailTypes []storage.AuthorizationDetailType
}

// ServicePatch updates a service; nil fields are left unchanged. Scopes,
// when set, replaces the whole list.
type ServicePatch struct {
	Name        *string
	Description *string
	Identifier  *string
	Scopes      *[]storage.Scope
	// AuthorizationDetailTypes, when set, replaces the whole list.
	AuthorizationDetailTypes *[]storage.AuthorizationDetailType
}

// CreateService validates and stores a service with its scopes.
func (s *Service) CreateService(ctx context.Context, wsID string, in ServiceInput) (storage.Service, error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return storage.Service{}, err
	}
	if in.ID == "" {
		in.ID = "svc_" + randomToken(generatedServiceIDLen)
	}
	now := s.now()
	svc := storage.Service{
		WorkspaceID: wsID, ID: in.ID, Name: in.Name, Description: in.Description,
		Identifier: in.Identifier, Scopes: in.Scopes, CreatedAt: now, UpdatedAt: now,
		AuthorizationDetailTypes: in.AuthorizationDetailTypes,
	}
	var v validator
	v.check(serviceIDPattern.MatchString(in.ID), "id", "pattern",
		"must be 1-128 letters, digits or '.', '_', '~', '-'")
	validateService(&v, svc)
	if err := v.err(); err != nil {
		return storage.Service{}, err
	}
	if err := s.checkScopeCollisions(ctx, svc); err != nil {
		return storage.Service{}, err
	}
	if err := s.checkDetailTypeCollisions(ctx, svc); err != nil {
		return storage.Service{}, err
	}
	if err := s.Store.CreateService(ctx, svc); err != nil {
		return storage.Service{}, mapStore(err, "service", in.ID)
	}
	s.audit(ctx, wsID, AuditServiceCreate, TargetService, svc.ID, map[string]any{"name": svc.Name, "identifier": svc.Identifier})
	return svc, nil
}

func validateService(v *validator, svc storage.Service) {
	validateName(v, "name", svc.Name)
	v.maxLen("description", svc.Description, maxDescriptionLength)
	if v.required("identifier", svc.Identifier) {
		v.maxLen("identifier", svc.Identifier, maxIdentifierLength)
	}
	if !v.maxItems("scopes", len(svc.Scopes), MaxScopesPerService) {
		return
	}
	seen := map[string]bool{}
	for i, sc := range svc.Scopes {
		f := fmt.Sprintf("scopes[%d]", i)
		v.check(scopeNamePattern.MatchString(sc.Name), f+".name", "pattern",
			"must be 1-128 letters, digits or '_', '.', ':', '/', '-'")
		v.check(!seen[sc.Name], f+".name", "unique", "duplicate scope %q", sc.Name)
		v.maxLen(f+".description", sc.Description, maxScopeDescLength)
		seen[sc.Name] = true
	}
	validateDetailTypes(v, svc.AuthorizationDetailTypes) // RFC 9396 §2 (authzdetails.go)
}

// checkScopeCollisions reports, with a readable message, a scope name that
// another service of the workspace already defines (scope names are unique
// per workspace). The storage uniqueness constraint remains the real gate
// against races.
func (s *Service) checkScopeCollisions(ctx context.Context, svc storage.Service) error {
	refs, err := s.Store.ListScopes(ctx, svc.WorkspaceID)
	if err != nil {
		return err
	}
	owner := make(map[string]string, len(refs))
	for _, r := range refs {
		owner[r.Name] = r.ServiceID
	}
	for _, sc := range svc.Scopes {
		if o, ok := owner[sc.Name]; ok && o != svc.ID {
			return conflict(nil, "scope %q is already defined by service %q", sc.Name, o)
		}
	}
	return nil
}

// GetService returns one service of the workspace.
func (s *Service) GetService(ctx context.Context, wsID, id string) (storage.Service, error) {
	svc, err := s.Store.GetService(ctx, wsID, id)
	return svc, mapStore(err, "service", id)
}

// ListServices returns one page of the workspace's services.
func (s *Service) ListServices(ctx context.Context, wsID string, opts storage.ListOptions) (storage.Page[storage.Service], error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return storage.Page[storage.Service]{}, err
	}
	return s.Store.ListServices(ctx, wsID, opts)
}

// ListScopes returns every scope of the workspace.
func (s *Service) ListScopes(ctx context.Context, wsID string) ([]storage.ScopeRef, error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return nil, err
	}
	return s.Store.ListScopes(ctx, wsID)
}

// UpdateService applies p after validating the result.
func (s *Service) UpdateService(ctx context.Context, wsID, id string, p ServicePatch) (storage.Service, error) {
	if p.Scopes != nil {
		if err := s.checkScopeCollisions(ctx, storage.Service{WorkspaceID: wsID, ID: id, Scopes: *p.Scopes}); err != nil {
			return storage.Service{}, err
		}
	}
	if p.AuthorizationDetailTypes != nil {
		if err := s.checkDetailTypeCollisions(ctx, storage.Service{WorkspaceID: wsID, ID: id, AuthorizationDetailTypes: *p.AuthorizationDetailTypes}); err != nil {
			return storage.Service{}, err
		}
	}
	svc, err := s.Store.UpdateService(ctx, wsID, id, func(svc storage.Service) (storage.Service, error) {
		svc = applyServicePatch(svc, p)
		var v validator
		validateService(&v, svc)
		if err := v.err(); err != nil {
			return svc, err
		}
		svc.UpdatedAt = s.now()
		return svc, nil
	})
	if err != nil {
		return storage.Service{}, mapStore(err, "service", id)
	}
	s.audit(ctx, wsID, AuditServiceUpdate, TargetService, id, map[string]any{"fields": setFields(
		"name", p.Name != nil, "description", p.Description != nil, "identifier", p.Identifier != nil, "scopes", p.Scopes != nil,
		"authorization_detail_types", p.AuthorizationDetailTypes != nil)})
	return svc, nil
}

func applyServicePatch(svc storage.Service, p ServicePatch) storage.Service {
	if p.Name != nil {
		svc.Name = *p.Name
	}
	if p.Description != nil {
		svc.Description = *p.Description
	}
	if p.Identifier != nil {
		svc.Identifier = *p.Identifier
	}
	if p.Scopes != nil {
		svc.Scopes = append([]storage.Scope(nil), (*p.Scopes)...)
	}
	if p.AuthorizationDetailTypes != nil {
		svc.AuthorizationDetailTypes = append([]storage.AuthorizationDetailType(nil), (*p.AuthorizationDetailTypes)...)
	}
	return svc
}

// DeleteService removes a service and its scopes. Clients that listed its
// scopes keep the names but can no longer be granted them: the token
// endpoint only grants scopes that exist.
func (s *Service) DeleteService(ctx context.Context, wsID, id string) error {
	if err := s.Store.DeleteService(ctx, wsID, id); err != nil {
		return mapStore(err, "service", id)
	}
	s.audit(ctx, wsID, AuditServiceDelete, TargetService, id, nil)
	return nil
}
