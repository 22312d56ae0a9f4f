package sqlstore

import (
	"context"

	"github.com/latchkey/latchkey/internal/storage"
)

const profileColumns = `workspace_id, id, name, description, created_at, updated_at`

// CreateProfile inserts p. A duplicate ID or name in the workspace is
// ErrAlreadyExists.
func (s *Store) CreateProfile(ctx context.Context, p storage.Profile) error {
	if err := checkText("create profile", p.WorkspaceID, p.ID, p.Name, p.Description); err != nil {
		return err
	}
	return s.inTx(ctx, "create profile", func(tx conn) error {
		if _, err := tx.exec(ctx, `INSERT INTO profiles (`+profileColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			p.WorkspaceID, p.ID, p.Name, p.Description, toMillis(p.CreatedAt), toMillis(p.UpdatedAt)); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, p.WorkspaceID, storage.ChangeProfile, p.ID)
	})
}

// GetProfile reads one profile.
func (s *Store) GetProfile(ctx context.Context, workspaceID, id string) (storage.Profile, error) {
	p, err := getProfile(ctx, s.reader(), workspaceID, id, "")
	return p, mapError("get profile", err)
}

func getProfile(ctx context.Context, c conn, workspaceID, id, lock string) (storage.Profile, error) {
	if !findable(workspaceID, id) {
		return storage.Profile{}, storage.ErrNotFound
	}
	row := c.queryRow(ctx, `SELECT `+profileColumns+` FROM profiles WHERE workspace_id = ? AND id = ?`+lock, workspaceID, id)
	return scanProfile(row)
}

func scanProfile(row interface{ Scan(...any) error }) (storage.Profile, error) {
	var p storage.Profile
	var created, updated int64
	if err := row.Scan(&p.WorkspaceID, &p.ID, &p.Name, &p.Description, &created, &updated); err != nil {
		return storage.Profile{}, err
	}
	p.CreatedAt, p.UpdatedAt = fromMillis(created), fromMillis(updated)
	return p, nil
}

// ListProfiles returns one page of the workspace's profiles ordered by ID.
func (s *Store) ListProfiles(ctx context.Context, workspaceID string, opts storage.ListOptions) (storage.Page[storage.Profile], error) {
	q, args, limit := listQuery(`SELECT `+profileColumns+` FROM profiles WHERE workspace_id = ?`, []any{workspaceID}, opts)
	return listPage(ctx, s, "list profiles", q, args, limit, scanProfile, func(p storage.Profile) string { return p.ID })
}

// UpdateProfile runs updater on the locked profile and writes its result.
func (s *Store) UpdateProfile(ctx context.Context, workspaceID, id string, updater func(storage.Profile) (storage.Profile, error)) (storage.Profile, error) {
	out, err := updateRow(ctx, s, rowUpdate[storage.Profile]{
		op: "update profile",
		lock: func(tx conn) (storage.Profile, error) {
			return getProfile(ctx, tx, workspaceID, id, s.flavor.forUpdate)
		},
		prepare: func(next *storage.Profile) ([]any, error) {
			next.WorkspaceID, next.ID = workspaceID, id
			if err := checkText("update profile", next.Name, next.Description); err != nil {
				return nil, err
			}
			return []any{next.Name, next.Description, toMillis(next.CreatedAt), toMillis(next.UpdatedAt), workspaceID, id}, nil
		},
		write: execAndRecord[storage.Profile](ctx, s, `UPDATE profiles SET name = ?, description = ?, created_at = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			workspaceID, storage.ChangeProfile, id),
	}, updater)
	if err != nil {
		return storage.Profile{}, err
	}
	out.CreatedAt, out.UpdatedAt = roundTime(out.CreatedAt), roundTime(out.UpdatedAt)
	return out, nil
}

// DeleteProfile removes one profile. Users keep the dangling ID, which
// matches no profile any more.
func (s *Store) DeleteProfile(ctx context.Context, workspaceID, id string) error {
	return s.deleteRow(ctx, "delete profile", `DELETE FROM profiles WHERE workspace_id = ? AND id = ?`,
		workspaceID, storage.ChangeProfile, id, workspaceID, id)
}
