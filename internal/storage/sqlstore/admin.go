package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

const adminTokenColumns = `id, name, hash, created_at, role, workspaces, expires_at, last_used_at, created_by`

// CreateAdminToken stores an admin credential (hash only). A duplicate ID
// or hash is ErrAlreadyExists. A token without a role is super_admin, the
// power every token had before roles existed.
func (s *Store) CreateAdminToken(ctx context.Context, t storage.AdminToken) error {
	if t.Role == "" {
		t.Role = storage.RoleSuperAdmin
	}
	ws, err := encodeList(t.Workspaces)
	if err != nil {
		return err
	}
	_, err = s.reader().exec(ctx, `INSERT INTO admin_tokens (`+adminTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, nonNil(t.Hash), toMillis(t.CreatedAt), t.Role, ws, toMillis(t.ExpiresAt),
		toMillis(t.LastUsedAt), t.CreatedBy)
	return mapError("create admin token", err)
}

func scanAdminToken(row interface{ Scan(...any) error }) (storage.AdminToken, error) {
	var t storage.AdminToken
	var created, expires, used int64
	var ws string
	if err := row.Scan(&t.ID, &t.Name, &t.Hash, &created, &t.Role, &ws, &expires, &used, &t.CreatedBy); err != nil {
		return storage.AdminToken{}, err
	}
	if err := json.Unmarshal([]byte(ws), &t.Workspaces); err != nil {
		return storage.AdminToken{}, fmt.Errorf("decode admin token workspaces: %w", err)
	}
	if len(t.Workspaces) == 0 {
		t.Workspaces = nil
	}
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt = fromMillis(created), fromMillis(expires), fromMillis(used)
	return t, nil
}

// GetAdminTokenByHash finds the credential whose hash is hash. It reads
// the database on every call, so a deleted token stops at once on every
// process (docs/security.md O5).
func (s *Store) GetAdminTokenByHash(ctx context.Context, hash []byte) (storage.AdminToken, error) {
	row := s.reader().queryRow(ctx, `SELECT `+adminTokenColumns+` FROM admin_tokens WHERE hash = ?`, nonNil(hash))
	t, err := scanAdminToken(row)
	return t, mapError("get admin token", err)
}

// ListAdminTokens returns every admin credential ordered by ID.
func (s *Store) ListAdminTokens(ctx context.Context) ([]storage.AdminToken, error) {
	rows, err := s.reader().query(ctx, `SELECT `+adminTokenColumns+` FROM admin_tokens ORDER BY id`)
	if err != nil {
		return nil, mapError("list admin tokens", err)
	}
	defer rows.Close()
	var out []storage.AdminToken
	for rows.Next() {
		t, err := scanAdminToken(rows)
		if err != nil {
			return nil, mapError("list admin tokens", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("list admin tokens", err)
	}
	return out, nil
}

// DeleteAdminToken removes the credential id; ErrNotFound when there is
// none.
func (s *Store) DeleteAdminToken(ctx context.Context, id string) error {
	if !findable(id) {
		return storage.ErrNotFound
	}
	res, err := s.reader().exec(ctx, `DELETE FROM admin_tokens WHERE id = ?`, id)
	if err == nil {
		err = expectOne(res)
	}
	return mapError("delete admin token", err)
}

// TouchAdminToken records a use of the credential id at now, unless its
// recorded last use is after notBefore: the condition lets the hot path
// write at most once per interval per token, even across processes.
func (s *Store) TouchAdminToken(ctx context.Context, id string, now, notBefore time.Time) error {
	_, err := s.reader().exec(ctx, `UPDATE admin_tokens SET last_used_at = ? WHERE id = ? AND last_used_at <= ?`,
		toMillis(now), id, toMillis(notBefore))
	return mapError("touch admin token", err)
}
