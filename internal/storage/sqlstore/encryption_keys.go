package sqlstore

import (
	"context"

	"github.com/latchkey/latchkey/internal/storage"
)

// ListEncryptionKeys returns the workspace's encryption keys by alg.
func (s *Store) ListEncryptionKeys(ctx context.Context, workspaceID string) ([]storage.EncryptionKey, error) {
	if !findable(workspaceID) {
		return nil, nil
	}
	rows, err := s.reader().query(ctx, `SELECT workspace_id, alg, kid, private_enc, public_jwk, created_at
FROM encryption_keys WHERE workspace_id = ? ORDER BY alg`, workspaceID)
	if err != nil {
		return nil, mapError("list encryption keys", err)
	}
	defer rows.Close()
	var out []storage.EncryptionKey
	for rows.Next() {
		var k storage.EncryptionKey
		var pub string
		var created int64
		if err := rows.Scan(&k.WorkspaceID, &k.Alg, &k.KID, &k.PrivateCiphertext, &pub, &created); err != nil {
			return nil, mapError("list encryption keys", err)
		}
		k.PublicJWK, k.CreatedAt = []byte(pub), fromMillis(created)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("list encryption keys", err)
	}
	return out, nil
}

// CreateEncryptionKey inserts k with ON CONFLICT DO NOTHING: the first
// key of a workspace and alg wins, atomically across processes.
func (s *Store) CreateEncryptionKey(ctx context.Context, k storage.EncryptionKey) error {
	if err := checkText("create encryption key", k.WorkspaceID, k.Alg, k.KID, string(k.PublicJWK)); err != nil {
		return err
	}
	res, err := s.reader().exec(ctx, `INSERT INTO encryption_keys (workspace_id, alg, kid, private_enc, public_jwk, created_at)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, alg) DO NOTHING`,
		k.WorkspaceID, k.Alg, k.KID, nonNil(k.PrivateCiphertext), string(k.PublicJWK), toMillis(k.CreatedAt))
	if err != nil {
		return mapError("create encryption key", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapError("create encryption key", err)
	}
	if n == 0 {
		return storage.ErrAlreadyExists
	}
	return nil
}
