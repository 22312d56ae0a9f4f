package sqlstore

import (
	"bytes"
	"context"
	"fmt"

	"github.com/latchkey/latchkey/internal/storage"
)

const keyColumns = `workspace_id, kid, alg, state, private_enc, public_jwk, created_at, activated_at, retired_at, retire_until`

// ListSigningKeys returns the workspace's keys ordered by creation time,
// then KID.
func (s *Store) ListSigningKeys(ctx context.Context, workspaceID string) ([]storage.SigningKey, error) {
	if !findable(workspaceID) {
		return nil, nil
	}
	keys, err := listKeys(ctx, s.reader(), workspaceID)
	return keys, mapError("list signing keys", err)
}

func listKeys(ctx context.Context, c conn, workspaceID string) ([]storage.SigningKey, error) {
	rows, err := c.query(ctx, `SELECT `+keyColumns+` FROM signing_keys WHERE workspace_id = ? ORDER BY created_at, kid`, workspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storage.SigningKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func scanKey(row interface{ Scan(...any) error }) (storage.SigningKey, error) {
	var k storage.SigningKey
	var created, activated, retired, until int64
	if err := row.Scan(&k.WorkspaceID, &k.KID, &k.Alg, &k.State, &k.PrivateCiphertext, &k.PublicJWK,
		&created, &activated, &retired, &until); err != nil {
		return storage.SigningKey{}, err
	}
	k.CreatedAt, k.ActivatedAt = fromMillis(created), fromMillis(activated)
	k.RetiredAt, k.RetireUntil = fromMillis(retired), fromMillis(until)
	return k, nil
}

// UpdateSigningKeys locks the workspace row (PostgreSQL FOR UPDATE; SQLite's
// IMMEDIATE transaction holds the write lock already), so concurrent
// rotations from several processes serialize. It passes the current keys to
// updater and writes the difference to the returned set. A missing workspace
// is ErrNotFound; a returned set with a repeated KID aborts the update.
func (s *Store) UpdateSigningKeys(ctx context.Context, workspaceID string, updater func([]storage.SigningKey) ([]storage.SigningKey, error)) ([]storage.SigningKey, error) {
	if !findable(workspaceID) {
		return nil, storage.ErrNotFound
	}
	var out []storage.SigningKey
	err := s.inTx(ctx, "update signing keys", func(tx conn) error {
		var id string
		if err := tx.queryRow(ctx, `SELECT id FROM workspaces WHERE id = ?`+s.flavor.forUpdate, workspaceID).Scan(&id); err != nil {
			return err
		}
		cur, err := listKeys(ctx, tx, workspaceID)
		if err != nil {
			return err
		}
		next, err := updater(cloneKeys(cur))
		if err != nil {
			return abort{err}
		}
		changed, err := writeKeyDiff(ctx, tx, workspaceID, cur, next)
		if err != nil {
			return err
		}
		if out, err = listKeys(ctx, tx, workspaceID); err != nil {
			return err
		}
		if !changed {
			return nil
		}
		return s.recordChange(ctx, tx, workspaceID, storage.ChangeKeys, "")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func cloneKeys(keys []storage.SigningKey) []storage.SigningKey {
	out := make([]storage.SigningKey, len(keys))
	for i, k := range keys {
		k.PrivateCiphertext = bytes.Clone(k.PrivateCiphertext)
		k.PublicJWK = bytes.Clone(k.PublicJWK)
		out[i] = k
	}
	return out
}

// writeKeyDiff deletes keys missing from next, inserts new ones and
// rewrites changed ones. It reports whether anything changed.
func writeKeyDiff(ctx context.Context, tx conn, workspaceID string, cur, next []storage.SigningKey) (bool, error) {
	old := make(map[string]storage.SigningKey, len(cur))
	for _, k := range cur {
		old[k.KID] = k
	}
	seen := make(map[string]bool, len(next))
	changed := false
	for _, k := range next {
		k.WorkspaceID = workspaceID
		if seen[k.KID] {
			return false, abort{fmt.Errorf("sqlstore: signing key set repeats kid %q", k.KID)}
		}
		seen[k.KID] = true
		prev, exists := old[k.KID]
		if exists && sameKey(prev, k) {
			continue
		}
		changed = true
		if err := upsertKey(ctx, tx, k, exists); err != nil {
			return false, err
		}
	}
	for kid := range old {
		if seen[kid] {
			continue
		}
		changed = true
		if _, err := tx.exec(ctx, `DELETE FROM signing_keys WHERE workspace_id = ? AND kid = ?`, workspaceID, kid); err != nil {
			return false, err
		}
	}
	return changed, nil
}

func sameKey(a, b storage.SigningKey) bool {
	return a.Alg == b.Alg && a.State == b.State &&
		bytes.Equal(a.PrivateCiphertext, b.PrivateCiphertext) && bytes.Equal(a.PublicJWK, b.PublicJWK) &&
		toMillis(a.CreatedAt) == toMillis(b.CreatedAt) && toMillis(a.ActivatedAt) == toMillis(b.ActivatedAt) &&
		toMillis(a.RetiredAt) == toMillis(b.RetiredAt) && toMillis(a.RetireUntil) == toMillis(b.RetireUntil)
}

func upsertKey(ctx context.Context, tx conn, k storage.SigningKey, exists bool) error {
	args := []any{k.Alg, k.State, nonNil(k.PrivateCiphertext), nonNil(k.PublicJWK), toMillis(k.CreatedAt),
		toMillis(k.ActivatedAt), toMillis(k.RetiredAt), toMillis(k.RetireUntil), k.WorkspaceID, k.KID}
	if exists {
		_, err := tx.exec(ctx, `UPDATE signing_keys SET alg = ?, state = ?, private_enc = ?, public_jwk = ?, created_at = ?,
activated_at = ?, retired_at = ?, retire_until = ? WHERE workspace_id = ? AND kid = ?`, args...)
		return err
	}
	_, err := tx.exec(ctx, `INSERT INTO signing_keys (alg, state, private_enc, public_jwk, created_at, activated_at,
retired_at, retire_until, workspace_id, kid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	return err
}

// nonNil keeps NOT NULL BLOB columns satisfied by empty values.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
