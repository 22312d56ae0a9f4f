package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

const workspaceColumns = `id, name, enabled, settings, created_at, updated_at`

// CreateWorkspace inserts w; an existing ID is ErrAlreadyExists.
func (s *Store) CreateWorkspace(ctx context.Context, w storage.Workspace) error {
	settings, err := json.Marshal(w.Settings)
	if err != nil {
		return fmt.Errorf("sqlstore: encode workspace settings: %w", err)
	}
	if err := checkText("create workspace", w.ID, w.Name); err != nil {
		return err
	}
	return s.inTx(ctx, "create workspace", func(tx conn) error {
		if _, err := tx.exec(ctx, `INSERT INTO workspaces (`+workspaceColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			w.ID, w.Name, w.Enabled, string(settings), toMillis(w.CreatedAt), toMillis(w.UpdatedAt)); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, w.ID, storage.ChangeWorkspace, "")
	})
}

// GetWorkspace reads one workspace.
func (s *Store) GetWorkspace(ctx context.Context, id string) (storage.Workspace, error) {
	w, err := getWorkspace(ctx, s.reader(), id, "")
	return w, mapError("get workspace", err)
}

func getWorkspace(ctx context.Context, c conn, id, lock string) (storage.Workspace, error) {
	if !findable(id) {
		return storage.Workspace{}, storage.ErrNotFound
	}
	row := c.queryRow(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE id = ?`+lock, id)
	return scanWorkspace(row)
}

func scanWorkspace(row interface{ Scan(...any) error }) (storage.Workspace, error) {
	var w storage.Workspace
	var settings string
	var created, updated int64
	if err := row.Scan(&w.ID, &w.Name, &w.Enabled, &settings, &created, &updated); err != nil {
		return storage.Workspace{}, err
	}
	if err := json.Unmarshal([]byte(settings), &w.Settings); err != nil {
		return storage.Workspace{}, fmt.Errorf("decode workspace settings: %w", err)
	}
	w.CreatedAt, w.UpdatedAt = fromMillis(created), fromMillis(updated)
	return w, nil
}

// ListWorkspaces returns one page of workspaces ordered by ID.
func (s *Store) ListWorkspaces(ctx context.Context, opts storage.ListOptions) (storage.Page[storage.Workspace], error) {
	q, args, limit := listQuery(`SELECT `+workspaceColumns+` FROM workspaces WHERE 1 = 1`, nil, opts)
	return listPage(ctx, s, "list workspaces", q, args, limit, scanWorkspace, func(w storage.Workspace) string { return w.ID })
}

// UpdateWorkspace runs updater on the locked row and writes its result.
// The ID cannot change.
func (s *Store) UpdateWorkspace(ctx context.Context, id string, updater func(storage.Workspace) (storage.Workspace, error)) (storage.Workspace, error) {
	out, err := updateRow(ctx, s, rowUpdate[storage.Workspace]{
		op: "update workspace",
		lock: func(tx conn) (storage.Workspace, error) {
			return getWorkspace(ctx, tx, id, s.flavor.forUpdate)
		},
		prepare: func(next *storage.Workspace) ([]any, error) {
			next.ID = id
			if err := checkText("update workspace", next.Name); err != nil {
				return nil, err
			}
			settings, err := json.Marshal(next.Settings)
			if err != nil {
				return nil, fmt.Errorf("sqlstore: encode workspace settings: %w", err)
			}
			return []any{next.Name, next.Enabled, string(settings), toMillis(next.CreatedAt), toMillis(next.UpdatedAt), id}, nil
		},
		write: execAndRecord[storage.Workspace](ctx, s, `UPDATE workspaces SET name = ?, enabled = ?, settings = ?, created_at = ?, updated_at = ? WHERE id = ?`,
			id, storage.ChangeWorkspace, ""),
	}, updater)
	if err != nil {
		return storage.Workspace{}, err
	}
	return roundTimesWorkspace(out), nil
}

// roundTimesWorkspace returns w as a later Get would: times truncated to
// the millisecond, in UTC.
func roundTimesWorkspace(w storage.Workspace) storage.Workspace {
	w.CreatedAt, w.UpdatedAt = roundTime(w.CreatedAt), roundTime(w.UpdatedAt)
	return w
}

// DeleteWorkspace removes the workspace; foreign keys cascade to
// everything in it. Admin tokens and console users name their workspaces
// in a JSON list, which no foreign key reaches, so the same transaction
// takes the workspace out of them (docs/security.md O2, O5).
func (s *Store) DeleteWorkspace(ctx context.Context, id string) error {
	if !findable(id) {
		return storage.ErrNotFound
	}
	return s.inTx(ctx, "delete workspace", func(tx conn) error {
		res, err := tx.exec(ctx, `DELETE FROM workspaces WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if err := expectOne(res); err != nil {
			return err
		}
		if err := s.dropWorkspaceFromAdminTokens(ctx, tx, id); err != nil {
			return err
		}
		if err := s.dropWorkspaceFromAdminUsers(ctx, tx, id, time.Now()); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, id, storage.ChangeWorkspace, "")
	})
}
