package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/latchkey/latchkey/internal/storage"
)

const policyColumns = `workspace_id, id, name, description, kind, rules, version, created_at, updated_at`

// CreatePolicy inserts p as version 1 together with its first history row.
func (s *Store) CreatePolicy(ctx context.Context, p storage.Policy) error {
	if err := checkText("create policy", p.WorkspaceID, p.ID, p.Name, p.Description, p.Kind); err != nil {
		return err
	}
	p.Version = 1
	rules, err := json.Marshal(p.Rules)
	if err != nil {
		return fmt.Errorf("create policy: %w", err)
	}
	return s.inTx(ctx, "create policy", func(tx conn) error {
		if _, err := tx.exec(ctx, `INSERT INTO policies (`+policyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.WorkspaceID, p.ID, p.Name, p.Description, p.Kind, string(rules), p.Version,
			toMillis(p.CreatedAt), toMillis(p.UpdatedAt)); err != nil {
			return err
		}
		if err := insertPolicyVersion(ctx, tx, p, rules); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, p.WorkspaceID, storage.ChangePolicy, p.ID)
	})
}

func insertPolicyVersion(ctx context.Context, tx conn, p storage.Policy, rules []byte) error {
	_, err := tx.exec(ctx, `INSERT INTO policy_versions (workspace_id, policy_id, version, name, description, kind, rules, created_at, saved_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.WorkspaceID, p.ID, p.Version, p.Name, p.Description, p.Kind, string(rules), toMillis(p.CreatedAt), toMillis(p.UpdatedAt))
	return err
}

// GetPolicy reads the current version of one policy.
func (s *Store) GetPolicy(ctx context.Context, workspaceID, id string) (storage.Policy, error) {
	p, err := getPolicy(ctx, s.reader(), workspaceID, id, "")
	return p, mapError("get policy", err)
}

func getPolicy(ctx context.Context, c conn, workspaceID, id, lock string) (storage.Policy, error) {
	if !findable(workspaceID, id) {
		return storage.Policy{}, storage.ErrNotFound
	}
	row := c.queryRow(ctx, `SELECT `+policyColumns+` FROM policies WHERE workspace_id = ? AND id = ?`+lock, workspaceID, id)
	return scanPolicy(row)
}

func scanPolicy(row interface{ Scan(...any) error }) (storage.Policy, error) {
	var p storage.Policy
	var rules string
	var version, created, updated int64
	if err := row.Scan(&p.WorkspaceID, &p.ID, &p.Name, &p.Description, &p.Kind, &rules, &version, &created, &updated); err != nil {
		return storage.Policy{}, err
	}
	if err := json.Unmarshal([]byte(rules), &p.Rules); err != nil {
		return storage.Policy{}, fmt.Errorf("policy %s rules: %w", p.ID, err)
	}
	p.Version = int(version)
	p.CreatedAt, p.UpdatedAt = fromMillis(created), fromMillis(updated)
	return p, nil
}

// ListPolicies returns one page of the workspace's policies ordered by ID.
func (s *Store) ListPolicies(ctx context.Context, workspaceID string, opts storage.ListOptions) (storage.Page[storage.Policy], error) {
	q, args, limit := listQuery(`SELECT `+policyColumns+` FROM policies WHERE workspace_id = ?`, []any{workspaceID}, opts)
	return listPage(ctx, s, "list policies", q, args, limit, scanPolicy, func(p storage.Policy) string { return p.ID })
}

// UpdatePolicy saves updater's result as the next version and keeps the
// previous one in policy_versions.
func (s *Store) UpdatePolicy(ctx context.Context, workspaceID, id string, updater func(storage.Policy) (storage.Policy, error)) (storage.Policy, error) {
	var version int
	out, err := updateRow(ctx, s, rowUpdate[storage.Policy]{
		op: "update policy",
		lock: func(tx conn) (storage.Policy, error) {
			p, err := getPolicy(ctx, tx, workspaceID, id, s.flavor.forUpdate)
			version = p.Version
			return p, err
		},
		prepare: func(next *storage.Policy) ([]any, error) {
			next.WorkspaceID, next.ID, next.Version = workspaceID, id, version+1
			if err := checkText("update policy", next.Name, next.Description, next.Kind); err != nil {
				return nil, err
			}
			rules, err := json.Marshal(next.Rules)
			if err != nil {
				return nil, fmt.Errorf("update policy: %w", err)
			}
			return []any{next.Name, next.Description, next.Kind, string(rules), next.Version,
				toMillis(next.CreatedAt), toMillis(next.UpdatedAt), workspaceID, id}, nil
		},
		write: func(tx conn, next storage.Policy, args []any) error {
			if _, err := tx.exec(ctx, `UPDATE policies SET name = ?, description = ?, kind = ?, rules = ?, version = ?, created_at = ?, updated_at = ?
				WHERE workspace_id = ? AND id = ?`, args...); err != nil {
				return err
			}
			if err := insertPolicyVersion(ctx, tx, next, []byte(args[3].(string))); err != nil {
				return err
			}
			return s.recordChange(ctx, tx, workspaceID, storage.ChangePolicy, id)
		},
	}, updater)
	if err != nil {
		return storage.Policy{}, err
	}
	out.CreatedAt, out.UpdatedAt = roundTime(out.CreatedAt), roundTime(out.UpdatedAt)
	return out, nil
}

// DeletePolicy removes one policy; its history goes with it (ON DELETE
// CASCADE).
func (s *Store) DeletePolicy(ctx context.Context, workspaceID, id string) error {
	return s.deleteRow(ctx, "delete policy", `DELETE FROM policies WHERE workspace_id = ? AND id = ?`,
		workspaceID, storage.ChangePolicy, id, workspaceID, id)
}

const policyVersionColumns = `workspace_id, policy_id, name, description, kind, rules, version, created_at, saved_at`

// ListPolicyVersions returns every saved version of a policy, newest first.
func (s *Store) ListPolicyVersions(ctx context.Context, workspaceID, id string) ([]storage.Policy, error) {
	if !findable(workspaceID, id) {
		return nil, storage.ErrNotFound
	}
	rows, err := s.reader().query(ctx, `SELECT `+policyVersionColumns+` FROM policy_versions
		WHERE workspace_id = ? AND policy_id = ? ORDER BY version DESC`, workspaceID, id)
	if err != nil {
		return nil, mapError("list policy versions", err)
	}
	defer rows.Close()
	var out []storage.Policy
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, mapError("list policy versions", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("list policy versions", err)
	}
	if len(out) == 0 {
		return nil, storage.ErrNotFound
	}
	return out, nil
}

// GetPolicyVersion reads one saved version of a policy.
func (s *Store) GetPolicyVersion(ctx context.Context, workspaceID, id string, version int) (storage.Policy, error) {
	if !findable(workspaceID, id) {
		return storage.Policy{}, storage.ErrNotFound
	}
	row := s.reader().queryRow(ctx, `SELECT `+policyVersionColumns+` FROM policy_versions
		WHERE workspace_id = ? AND policy_id = ? AND version = ?`, workspaceID, id, version)
	p, err := scanPolicy(row)
	return p, mapError("get policy version", err)
}
