package sqlstore

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/latchkey/latchkey/internal/storage"
)

const serviceColumns = `workspace_id, id, name, description, identifier, created_at, updated_at, access_policy_id, claim_mappings, authorization_detail_types`

// CreateService inserts s and its scopes. A duplicate ID, identifier or
// scope name in the workspace is ErrAlreadyExists; a missing workspace is
// ErrNotFound.
func (s *Store) CreateService(ctx context.Context, svc storage.Service) error {
	if err := checkServiceText("create service", svc); err != nil {
		return err
	}
	return s.inTx(ctx, "create service", func(tx conn) error {
		claims, err := encodeClaimMappings(svc.ClaimMappings)
		if err != nil {
			return err
		}
		types, err := encodeDetailTypes(svc.AuthorizationDetailTypes)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO services (`+serviceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			svc.WorkspaceID, svc.ID, svc.Name, svc.Description, svc.Identifier,
			toMillis(svc.CreatedAt), toMillis(svc.UpdatedAt), svc.AccessPolicyID, claims, types); err != nil {
			return err
		}
		if err := insertScopes(ctx, tx, svc); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, svc.WorkspaceID, storage.ChangeService, svc.ID)
	})
}

// checkServiceText refuses a service whose stored text is not storable
// (text.go).
func checkServiceText(op string, svc storage.Service) error {
	fields := []string{svc.WorkspaceID, svc.ID, svc.Name, svc.Description, svc.Identifier, svc.AccessPolicyID}
	for _, sc := range svc.Scopes {
		fields = append(fields, sc.Name, sc.Description)
	}
	for _, m := range svc.ClaimMappings {
		fields = append(fields, m.Name, m.Expression)
		fields = append(fields, m.Targets...)
	}
	for _, t := range svc.AuthorizationDetailTypes {
		fields = append(fields, t.Type, t.Description, string(t.Schema))
	}
	return checkText(op, fields...)
}

func insertScopes(ctx context.Context, tx conn, svc storage.Service) error {
	for i, sc := range svc.Scopes {
		if _, err := tx.exec(ctx, `INSERT INTO scopes (workspace_id, service_id, name, description, position) VALUES (?, ?, ?, ?, ?)`,
			svc.WorkspaceID, svc.ID, sc.Name, sc.Description, i); err != nil {
			return err
		}
	}
	return nil
}

// GetService reads one service with its scopes.
func (s *Store) GetService(ctx context.Context, workspaceID, id string) (storage.Service, error) {
	svc, err := getService(ctx, s.reader(), workspaceID, id, "")
	return svc, mapError("get service", err)
}

func getService(ctx context.Context, c conn, workspaceID, id, lock string) (storage.Service, error) {
	if !findable(workspaceID, id) {
		return storage.Service{}, storage.ErrNotFound
	}
	row := c.queryRow(ctx, `SELECT `+serviceColumns+` FROM services WHERE workspace_id = ? AND id = ?`+lock, workspaceID, id)
	svc, err := scanService(row)
	if err != nil {
		return storage.Service{}, err
	}
	scopes, err := serviceScopes(ctx, c, workspaceID, []string{id})
	if err != nil {
		return storage.Service{}, err
	}
	svc.Scopes = scopes[id]
	return svc, nil
}

func scanService(row interface{ Scan(...any) error }) (storage.Service, error) {
	var svc storage.Service
	var created, updated int64
	var claims, types string
	if err := row.Scan(&svc.WorkspaceID, &svc.ID, &svc.Name, &svc.Description, &svc.Identifier, &created, &updated, &svc.AccessPolicyID, &claims, &types); err != nil {
		return storage.Service{}, err
	}
	var err error
	if svc.ClaimMappings, err = decodeClaimMappings(claims); err != nil {
		return storage.Service{}, err
	}
	if svc.AuthorizationDetailTypes, err = decodeDetailTypes(types); err != nil {
		return storage.Service{}, err
	}
	svc.CreatedAt, svc.UpdatedAt = fromMillis(created), fromMillis(updated)
	return svc, nil
}

// serviceScopes loads the scopes of the given services, each list in the
// order it was written.
func serviceScopes(ctx context.Context, c conn, workspaceID string, ids []string) (map[string][]storage.Scope, error) {
	out := make(map[string][]storage.Scope, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, workspaceID)
	for _, id := range ids {
		args = append(args, id)
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	rows, err := c.query(ctx, `SELECT service_id, name, description FROM scopes WHERE workspace_id = ? AND service_id IN (`+in+`) ORDER BY service_id, position`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var svcID string
		var sc storage.Scope
		if err := rows.Scan(&svcID, &sc.Name, &sc.Description); err != nil {
			return nil, err
		}
		out[svcID] = append(out[svcID], sc)
	}
	return out, rows.Err()
}

// ListServices returns one page of the workspace's services with scopes.
func (s *Store) ListServices(ctx context.Context, workspaceID string, opts storage.ListOptions) (storage.Page[storage.Service], error) {
	page, err := s.listServices(ctx, workspaceID, opts)
	return page, mapError("list services", err)
}

func (s *Store) listServices(ctx context.Context, workspaceID string, opts storage.ListOptions) (storage.Page[storage.Service], error) {
	c := s.reader()
	q, args, limit := listQuery(`SELECT `+serviceColumns+` FROM services WHERE workspace_id = ?`, []any{workspaceID}, opts)
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return storage.Page[storage.Service]{}, err
	}
	var items []storage.Service
	for rows.Next() {
		svc, err := scanService(rows)
		if err != nil {
			rows.Close()
			return storage.Page[storage.Service]{}, err
		}
		items = append(items, svc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return storage.Page[storage.Service]{}, err
	}
	page := finishPage(items, limit, func(svc storage.Service) string { return svc.ID })
	ids := make([]string, len(page.Items))
	for i, svc := range page.Items {
		ids[i] = svc.ID
	}
	scopes, err := serviceScopes(ctx, c, workspaceID, ids)
	if err != nil {
		return storage.Page[storage.Service]{}, err
	}
	for i := range page.Items {
		page.Items[i].Scopes = scopes[page.Items[i].ID]
	}
	return page, nil
}

// UpdateService runs updater on the locked service and writes its result,
// replacing the scope list. Workspace and ID cannot change.
func (s *Store) UpdateService(ctx context.Context, workspaceID, id string, updater func(storage.Service) (storage.Service, error)) (storage.Service, error) {
	out, err := updateRow(ctx, s, rowUpdate[storage.Service]{
		op: "update service",
		lock: func(tx conn) (storage.Service, error) {
			return getService(ctx, tx, workspaceID, id, s.flavor.forUpdate)
		},
		prepare: func(next *storage.Service) ([]any, error) {
			next.WorkspaceID, next.ID = workspaceID, id
			return nil, checkServiceText("update service", *next)
		},
		// The scope list is rewritten with the service: more than one
		// statement, so writeService rather than execAndRecord.
		write: func(tx conn, next storage.Service, _ []any) error {
			if err := writeService(ctx, tx, next); err != nil {
				return err
			}
			return s.recordChange(ctx, tx, workspaceID, storage.ChangeService, id)
		},
	}, updater)
	if err != nil {
		return storage.Service{}, err
	}
	out.CreatedAt, out.UpdatedAt = roundTime(out.CreatedAt), roundTime(out.UpdatedAt)
	return out, nil
}

func writeService(ctx context.Context, tx conn, svc storage.Service) error {
	claims, err := encodeClaimMappings(svc.ClaimMappings)
	if err != nil {
		return err
	}
	types, err := encodeDetailTypes(svc.AuthorizationDetailTypes)
	if err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `UPDATE services SET name = ?, description = ?, identifier = ?, created_at = ?, updated_at = ?, access_policy_id = ?, claim_mappings = ?, authorization_detail_types = ? WHERE workspace_id = ? AND id = ?`,
		svc.Name, svc.Description, svc.Identifier, toMillis(svc.CreatedAt), toMillis(svc.UpdatedAt), svc.AccessPolicyID, claims, types, svc.WorkspaceID, svc.ID); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `DELETE FROM scopes WHERE workspace_id = ? AND service_id = ?`, svc.WorkspaceID, svc.ID); err != nil {
		return err
	}
	return insertScopes(ctx, tx, svc)
}

// DeleteService removes the service and its scopes.
func (s *Store) DeleteService(ctx context.Context, workspaceID, id string) error {
	if !findable(workspaceID, id) {
		return storage.ErrNotFound
	}
	return s.inTx(ctx, "delete service", func(tx conn) error {
		res, err := tx.exec(ctx, `DELETE FROM services WHERE workspace_id = ? AND id = ?`, workspaceID, id)
		if err != nil {
			return err
		}
		if err := expectOne(res); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, workspaceID, storage.ChangeService, id)
	})
}

// ListScopes returns every scope of the workspace ordered by name.
func (s *Store) ListScopes(ctx context.Context, workspaceID string) ([]storage.ScopeRef, error) {
	if !findable(workspaceID) {
		return nil, nil
	}
	rows, err := s.reader().query(ctx, `SELECT sc.name, sc.description, sc.service_id, sv.identifier, sv.access_policy_id, sv.claim_mappings, sv.updated_at, sv.authorization_detail_types
FROM scopes sc JOIN services sv ON sv.workspace_id = sc.workspace_id AND sv.id = sc.service_id
WHERE sc.workspace_id = ? ORDER BY sc.name`, workspaceID)
	if err != nil {
		return nil, mapError("list scopes", err)
	}
	defer rows.Close()
	var out []storage.ScopeRef
	// One decoded list per service, shared by its scopes.
	decoded := map[string][]storage.ClaimMapping{}
	decodedTypes := map[string][]storage.AuthorizationDetailType{}
	for rows.Next() {
		var r storage.ScopeRef
		var claims, types string
		var updated int64
		if err := rows.Scan(&r.Name, &r.Description, &r.ServiceID, &r.ServiceIdentifier, &r.AccessPolicyID, &claims, &updated, &types); err != nil {
			return nil, mapError("list scopes", err)
		}
		ms, ok := decoded[r.ServiceID]
		if !ok {
			if ms, err = decodeClaimMappings(claims); err != nil {
				return nil, mapError("list scopes", err)
			}
			decoded[r.ServiceID] = ms
		}
		ts, ok := decodedTypes[r.ServiceID]
		if !ok {
			if ts, err = decodeDetailTypes(types); err != nil {
				return nil, mapError("list scopes", err)
			}
			decodedTypes[r.ServiceID] = ts
		}
		r.ServiceClaimMappings, r.ServiceUpdatedAt = ms, fromMillis(updated)
		r.ServiceAuthorizationDetailTypes = ts
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("list scopes", err)
	}
	return out, nil
}

// encodeClaimMappings is the claim_mappings column: a JSON array.
func encodeClaimMappings(ms []storage.ClaimMapping) (string, error) {
	if len(ms) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(ms)
	return string(b), err
}

// decodeClaimMappings reads the claim_mappings column; an empty list is nil.
func decodeClaimMappings(s string) ([]storage.ClaimMapping, error) {
	var ms []storage.ClaimMapping
	if err := json.Unmarshal([]byte(s), &ms); err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, nil
	}
	return ms, nil
}
