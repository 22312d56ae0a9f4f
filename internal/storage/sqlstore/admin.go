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
// or hash is ErrAlreadyExists; a workspace of t.Workspaces that does not
// exist is ErrNotFound. A token without a role is super_admin, the power
// every token had before roles existed.
func (s *Store) CreateAdminToken(ctx context.Context, t storage.AdminToken) error {
	if t.Role == "" {
		t.Role = storage.RoleSuperAdmin
	}
	ws, err := encodeList(t.Workspaces)
	if err != nil {
		return err
	}
	return s.inTx(ctx, "create admin token", func(tx conn) error {
		for _, id := range t.Workspaces {
			if err := s.holdWorkspace(ctx, tx, id); err != nil {
				return err
			}
		}
		_, err := tx.exec(ctx, `INSERT INTO admin_tokens (`+adminTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Name, nonNil(t.Hash), toMillis(t.CreatedAt), t.Role, ws, toMillis(t.ExpiresAt),
			toMillis(t.LastUsedAt), t.CreatedBy)
		return err
	})
}

// holdWorkspace reads workspace id in tx (ErrNotFound when there is none)
// and keeps it from being deleted until tx ends, so that a token naming it
// is either stored first and narrowed by DeleteWorkspace, or refused
// (docs/security.md O2). PostgreSQL's FOR KEY SHARE is the lock a foreign
// key check takes: it blocks DELETE but not updates of the workspace or
// inserts into it. SQLite's IMMEDIATE transaction already holds the
// database's write lock.
func (s *Store) holdWorkspace(ctx context.Context, tx conn, id string) error {
	if !findable(id) {
		return storage.ErrNotFound
	}
	lock := ""
	if s.flavor.name == flavorPostgres.name {
		lock = " FOR KEY SHARE"
	}
	var got string
	return tx.queryRow(ctx, `SELECT id FROM workspaces WHERE id = ?`+lock, id).Scan(&got)
}

// dropWorkspaceFromAdminTokens applies AdminToken.WithoutWorkspace to
// every token naming ws, in DeleteWorkspace's transaction after the
// workspace row is gone: a token created concurrently either held the
// row first (holdWorkspace), so is visible here, or fails to find it.
// The candidate rows are locked, so two workspace deletions narrowing one
// token serialize instead of each writing its own shorter list.
func (s *Store) dropWorkspaceFromAdminTokens(ctx context.Context, tx conn, ws string) error {
	tokens, err := scopedAdminTokens(ctx, tx, s.flavor.forUpdate)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		next, keep, changed := t.WithoutWorkspace(ws)
		switch {
		case !changed:
			continue
		case !keep:
			_, err = tx.exec(ctx, `DELETE FROM admin_tokens WHERE id = ?`, t.ID)
		default:
			var list string
			if list, err = encodeList(next.Workspaces); err == nil {
				_, err = tx.exec(ctx, `UPDATE admin_tokens SET workspaces = ? WHERE id = ?`, list, t.ID)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// scopedAdminTokens reads, and with lock locks, the tokens that name any
// workspace. They are few (one per deployment pipeline or operator), so
// matching the list in Go is cheaper than a JSON query per dialect.
func scopedAdminTokens(ctx context.Context, tx conn, lock string) ([]storage.AdminToken, error) {
	return connItems(ctx, tx, `SELECT `+adminTokenColumns+` FROM admin_tokens WHERE workspaces <> '[]' ORDER BY id`+lock, nil, scanAdminToken)
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
