package sqlstore

import (
	"context"

	"github.com/latchkey/latchkey/internal/storage"
)

// CreateAdminToken stores an admin credential (hash only). A duplicate ID
// or hash is ErrAlreadyExists.
func (s *Store) CreateAdminToken(ctx context.Context, t storage.AdminToken) error {
	_, err := s.reader().exec(ctx, `INSERT INTO admin_tokens (id, name, hash, created_at) VALUES (?, ?, ?, ?)`,
		t.ID, t.Name, nonNil(t.Hash), toMillis(t.CreatedAt))
	return mapError("create admin token", err)
}

func scanAdminToken(row interface{ Scan(...any) error }) (storage.AdminToken, error) {
	var t storage.AdminToken
	var created int64
	if err := row.Scan(&t.ID, &t.Name, &t.Hash, &created); err != nil {
		return storage.AdminToken{}, err
	}
	t.CreatedAt = fromMillis(created)
	return t, nil
}

// GetAdminTokenByHash finds the credential whose hash is hash.
func (s *Store) GetAdminTokenByHash(ctx context.Context, hash []byte) (storage.AdminToken, error) {
	row := s.reader().queryRow(ctx, `SELECT id, name, hash, created_at FROM admin_tokens WHERE hash = ?`, nonNil(hash))
	t, err := scanAdminToken(row)
	return t, mapError("get admin token", err)
}

// ListAdminTokens returns every admin credential ordered by ID.
func (s *Store) ListAdminTokens(ctx context.Context) ([]storage.AdminToken, error) {
	rows, err := s.reader().query(ctx, `SELECT id, name, hash, created_at FROM admin_tokens ORDER BY id`)
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
