package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey/internal/storage"
)

// Bulk loading for scale benchmarks (`latchkey bench seed`, docs/benchmarks.md
// "Scale"): each call writes its whole slice in one transaction, so a
// million rows cost a thousand commits instead of a million. The rows are
// exactly what the Create methods write (same columns, same encodings,
// same change records, so caches of running servers see them), without
// their per-row audit: seeding is an operator's benchmark action, audited
// once by the command.

// BulkCreateClients inserts clients in one transaction.
func (s *Store) BulkCreateClients(ctx context.Context, clients []storage.Client) error {
	return s.inTx(ctx, "bulk create clients", func(tx conn) error {
		for _, c := range clients {
			if err := checkText("bulk create clients", c.WorkspaceID, c.ID, c.Name); err != nil {
				return abort{err}
			}
			data, err := json.Marshal(c)
			if err != nil {
				return abort{fmt.Errorf("sqlstore: encode client: %w", err)}
			}
			if _, err := tx.exec(ctx, `INSERT INTO clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				c.WorkspaceID, c.ID, c.Name, c.Enabled, toMillis(c.CreatedAt), toMillis(c.UpdatedAt), string(data)); err != nil {
				return err
			}
			if err := s.recordChange(ctx, tx, c.WorkspaceID, storage.ChangeClient, c.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// BulkCreateUsers inserts users in one transaction.
func (s *Store) BulkCreateUsers(ctx context.Context, users []storage.User) error {
	return s.inTx(ctx, "bulk create users", func(tx conn) error {
		for _, u := range users {
			args, err := userArgs(u)
			if err != nil {
				return abort{err}
			}
			if _, err := tx.exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
				return err
			}
			if err := s.recordChange(ctx, tx, u.WorkspaceID, storage.ChangeUser, u.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// BulkCreateServices inserts services and their scopes in one transaction.
func (s *Store) BulkCreateServices(ctx context.Context, services []storage.Service) error {
	return s.inTx(ctx, "bulk create services", func(tx conn) error {
		for _, svc := range services {
			if err := checkServiceText("bulk create services", svc); err != nil {
				return abort{err}
			}
			claims, err := encodeClaimMappings(svc.ClaimMappings)
			if err != nil {
				return abort{err}
			}
			types, err := encodeDetailTypes(svc.AuthorizationDetailTypes)
			if err != nil {
				return abort{err}
			}
			if _, err := tx.exec(ctx, `INSERT INTO services (`+serviceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				svc.WorkspaceID, svc.ID, svc.Name, svc.Description, svc.Identifier,
				toMillis(svc.CreatedAt), toMillis(svc.UpdatedAt), svc.AccessPolicyID, claims, types); err != nil {
				return err
			}
			if err := insertScopes(ctx, tx, svc); err != nil {
				return err
			}
			if err := s.recordChange(ctx, tx, svc.WorkspaceID, storage.ChangeService, svc.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// BulkGrant is one token family with its current refresh token's hash.
type BulkGrant struct {
	Family      storage.TokenFamily
	RefreshHash []byte
}

// BulkCreateGrants inserts token families, each with its refresh token,
// in one transaction.
func (s *Store) BulkCreateGrants(ctx context.Context, grants []BulkGrant) error {
	return s.inTx(ctx, "bulk create grants", func(tx conn) error {
		for _, g := range grants {
			if err := insertGrant(ctx, tx, g.Family, g.RefreshHash, g.Family.CreatedAt); err != nil {
				return err
			}
		}
		return nil
	})
}

// BulkPutConsents inserts or replaces consents in one transaction.
func (s *Store) BulkPutConsents(ctx context.Context, consents []storage.Consent) error {
	return s.inTx(ctx, "bulk put consents", func(tx conn) error {
		for _, c := range consents {
			if _, err := tx.exec(ctx, `INSERT INTO consents (`+consentColumns+`) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (workspace_id, user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
				c.WorkspaceID, c.UserID, c.ClientID, strings.Join(c.Scopes, " "), toMillis(c.CreatedAt), toMillis(c.UpdatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
}
