package sqlstore

import (
	"context"

	"github.com/latchkey/latchkey/internal/storage"
)

// encryptionKeyColumns are the columns of request_object_keys (migration
// 20) in the order scanEncryptionKey reads them.
const encryptionKeyColumns = `workspace_id, alg, kid, state, private_enc, public_jwk, created_at, retired_at`

// ListEncryptionKeys returns the workspace's encryption keys by alg, the
// active key first, then the previous ones from the newest.
func (s *Store) ListEncryptionKeys(ctx context.Context, workspaceID string) ([]storage.EncryptionKey, error) {
	if !findable(workspaceID) {
		return nil, nil
	}
	rows, err := s.reader().query(ctx, `SELECT `+encryptionKeyColumns+`
FROM request_object_keys WHERE workspace_id = ?
ORDER BY alg, CASE WHEN state = 'active' THEN 0 ELSE 1 END, created_at DESC, kid`, workspaceID)
	if err != nil {
		return nil, mapError("list encryption keys", err)
	}
	defer rows.Close()
	var out []storage.EncryptionKey
	for rows.Next() {
		var k storage.EncryptionKey
		var pub string
		var created, retired int64
		if err := rows.Scan(&k.WorkspaceID, &k.Alg, &k.KID, &k.State, &k.PrivateCiphertext, &pub, &created, &retired); err != nil {
			return nil, mapError("list encryption keys", err)
		}
		k.PublicJWK, k.CreatedAt, k.RetiredAt = []byte(pub), fromMillis(created), fromMillis(retired)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("list encryption keys", err)
	}
	return out, nil
}

// CreateEncryptionKey inserts k as the active key with ON CONFLICT DO
// NOTHING: the unique index on the active key of (workspace_id, alg)
// makes the first key of a workspace and alg win, atomically across
// processes.
func (s *Store) CreateEncryptionKey(ctx context.Context, k storage.EncryptionKey) error {
	if err := checkText("create encryption key", k.WorkspaceID, k.Alg, k.KID, string(k.PublicJWK)); err != nil {
		return err
	}
	res, err := s.reader().exec(ctx, `INSERT INTO request_object_keys (`+encryptionKeyColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING`,
		k.WorkspaceID, k.Alg, k.KID, storage.EncryptionKeyActive, nonNil(k.PrivateCiphertext), string(k.PublicJWK), toMillis(k.CreatedAt))
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

// RotateEncryptionKey demotes the active key of k.Alg and inserts k as
// the active one in one transaction, under the workspace row's lock, so
// concurrent rotations on any number of processes run one after the
// other and each leaves exactly one active key.
func (s *Store) RotateEncryptionKey(ctx context.Context, k storage.EncryptionKey) error {
	if err := checkText("rotate encryption key", k.WorkspaceID, k.Alg, k.KID, string(k.PublicJWK)); err != nil {
		return err
	}
	return s.inTx(ctx, "rotate encryption key", func(tx conn) error {
		var id string
		if err := tx.queryRow(ctx, `SELECT id FROM workspaces WHERE id = ?`+s.flavor.forUpdate, k.WorkspaceID).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE request_object_keys SET state = ?, retired_at = ?
WHERE workspace_id = ? AND alg = ? AND state = ?`,
			storage.EncryptionKeyPrevious, toMillis(k.CreatedAt), k.WorkspaceID, k.Alg, storage.EncryptionKeyActive); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO request_object_keys (`+encryptionKeyColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, 0)`,
			k.WorkspaceID, k.Alg, k.KID, storage.EncryptionKeyActive, nonNil(k.PrivateCiphertext), string(k.PublicJWK), toMillis(k.CreatedAt)); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, k.WorkspaceID, storage.ChangeKeys, "")
	})
}

// DeleteEncryptionKey deletes a previous key; the state condition in
// the statement keeps the active key even if it was promoted after the
// caller looked.
func (s *Store) DeleteEncryptionKey(ctx context.Context, workspaceID, kid string) error {
	if !findable(workspaceID, kid) {
		return storage.ErrNotFound
	}
	return s.inTx(ctx, "delete encryption key", func(tx conn) error {
		res, err := tx.exec(ctx, `DELETE FROM request_object_keys WHERE workspace_id = ? AND kid = ? AND state <> ?`,
			workspaceID, kid, storage.EncryptionKeyActive)
		if err != nil {
			return err
		}
		if err := expectOne(res); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, workspaceID, storage.ChangeKeys, "")
	})
}
