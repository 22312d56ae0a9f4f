package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
)

// Audit actions of a change to claim mappings; the entry holds the whole
// new list, so the audit log keeps every version.
const (
	AuditClientClaims  = "client.claims"
	AuditServiceClaims = "service.claims"
)

// validateClaimMappings type-checks every mapping as the token endpoint
// will run it (policy.CompileClaims): a reserved or repeated name, an
// unknown target, an expression that does not compile (with its line and
// column) or an oversized constant is refused and nothing is saved
// (docs/security.md Z5, Z6).
func validateClaimMappings(v *validator, mappings []storage.ClaimMapping) {
	if !v.maxItems("claims", len(mappings), policy.MaxClaimMappings) {
		return
	}
	if _, err := policy.CompileClaims(mappings); err != nil {
		var ce *policy.ClaimError
		if errors.As(err, &ce) {
			v.add(fmt.Sprintf("claims[%d]", ce.Mapping), "cel", "%s", ce.Error())
			return
		}
		v.add("claims", "cel", "%s", err.Error())
	}
}

// GetClientClaims returns a client's claim mappings (an empty list when
// it has none). The console's Policies tab and the admin API read them
// through it.
func (s *Service) GetClientClaims(ctx context.Context, wsID, clientID string) ([]storage.ClaimMapping, error) {
	c, err := s.GetClient(ctx, wsID, clientID)
	return orEmpty(c.ClaimMappings), err
}

// SetClientClaims replaces a client's claim mappings after checking them
// (validateClaimMappings); the change is audited with the new list, and
// the client's new UpdatedAt makes every process compile the new version.
func (s *Service) SetClientClaims(ctx context.Context, wsID, clientID string, mappings []storage.ClaimMapping) ([]storage.ClaimMapping, error) {
	return s.setClaims(ctx, claimOwner{ws: wsID, id: clientID, kind: "client", target: TargetClient, action: AuditClientClaims,
		exists: func() error { _, err := s.GetClient(ctx, wsID, clientID); return err },
		store: func(ms []storage.ClaimMapping, now time.Time) ([]storage.ClaimMapping, error) {
			c, err := s.Store.UpdateClient(ctx, wsID, clientID, func(c storage.Client) (storage.Client, error) {
				c.ClaimMappings, c.UpdatedAt = ms, now
				return c, nil
			})
			return c.ClaimMappings, err
		}}, mappings)
}

// GetServiceClaims returns a service's claim mappings (an empty list when
// it has none). They apply to every token that carries one of the
// service's scopes, before the client's own (a client mapping of the same
// name wins).
func (s *Service) GetServiceClaims(ctx context.Context, wsID, serviceID string) ([]storage.ClaimMapping, error) {
	svc, err := s.GetService(ctx, wsID, serviceID)
	return orEmpty(svc.ClaimMappings), err
}

// SetServiceClaims replaces a service's claim mappings after checking
// them like SetClientClaims; the change is audited with the new list.
func (s *Service) SetServiceClaims(ctx context.Context, wsID, serviceID string, mappings []storage.ClaimMapping) ([]storage.ClaimMapping, error) {
	return s.setClaims(ctx, claimOwner{ws: wsID, id: serviceID, kind: "service", target: TargetService, action: AuditServiceClaims,
		exists: func() error { _, err := s.GetService(ctx, wsID, serviceID); return err },
		store: func(ms []storage.ClaimMapping, now time.Time) ([]storage.ClaimMapping, error) {
			svc, err := s.Store.UpdateService(ctx, wsID, serviceID, func(svc storage.Service) (storage.Service, error) {
				svc.ClaimMappings, svc.UpdatedAt = ms, now
				return svc, nil
			})
			return svc.ClaimMappings, err
		}}, mappings)
}

// claimOwner is what setClaims needs to know of a client or a service.
type claimOwner struct {
	ws, id, kind, target, action string
	exists                       func() error
	store                        func([]storage.ClaimMapping, time.Time) ([]storage.ClaimMapping, error)
}

// setClaims checks and stores an owner's new list: an unknown owner is
// 404 before any validation message, a refused list is 400 and saves
// nothing, a stored one is audited.
func (s *Service) setClaims(ctx context.Context, o claimOwner, mappings []storage.ClaimMapping) ([]storage.ClaimMapping, error) {
	if err := o.exists(); err != nil {
		return nil, err
	}
	var v validator
	validateClaimMappings(&v, mappings)
	if err := v.err(); err != nil {
		return nil, err
	}
	if len(mappings) == 0 {
		mappings = nil
	}
	stored, err := o.store(mappings, s.now())
	if err != nil {
		return nil, mapStore(err, o.kind, o.id)
	}
	s.audit(ctx, o.ws, o.action, o.target, o.id, map[string]any{"claims": stored})
	return orEmpty(stored), nil
}

func orEmpty(ms []storage.ClaimMapping) []storage.ClaimMapping {
	if ms == nil {
		return []storage.ClaimMapping{}
	}
	return ms
}
