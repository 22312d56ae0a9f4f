package service

import (
	"context"

	"github.com/latchkey/latchkey/internal/authzdetails"
	"github.com/latchkey/latchkey/internal/storage"
)

// validateDetailTypes checks a service's RFC 9396 authorization_details
// types as they will be used: valid unique names, bounded descriptions
// and JSON Schemas that compile (without external references). A schema
// that does not compile is refused with the library's reason and nothing
// is saved.
func validateDetailTypes(v *validator, ts []storage.AuthorizationDetailType) {
	for _, p := range authzdetails.CheckTypes(ts) {
		v.add(p.Field, p.Rule, "%s", p.Message)
	}
}

// checkDetailTypeCollisions refuses a type another service of the
// workspace already declares: the type names the service whose schema
// validates it (RFC 9396 §2), so it must be unique per workspace.
func (s *Service) checkDetailTypeCollisions(ctx context.Context, svc storage.Service) error {
	if len(svc.AuthorizationDetailTypes) == 0 {
		return nil
	}
	opts := storage.ListOptions{Limit: storage.MaxPageSize}
	for {
		page, err := s.Store.ListServices(ctx, svc.WorkspaceID, opts)
		if err != nil {
			return err
		}
		for _, other := range page.Items {
			if other.ID == svc.ID {
				continue
			}
			for _, t := range other.AuthorizationDetailTypes {
				for _, mine := range svc.AuthorizationDetailTypes {
					if mine.Type == t.Type {
						return conflict(nil, "authorization details type %q is already declared by service %q", t.Type, other.ID)
					}
				}
			}
		}
		if page.Next == "" {
			return nil
		}
		opts.After = page.Next
	}
}
