package sqlstore

import (
	"context"

	"github.com/latchkey/latchkey/internal/storage"
)

// changesLockID is the PostgreSQL transaction advisory lock taken before
// inserting a change event ("lkchange" in ASCII).
const changesLockID int64 = 0x6c6b6368616e6765

// recordChange inserts a change event in the caller's transaction. It must
// be the transaction's last statement: on PostgreSQL it takes a
// transaction-scoped advisory lock, held until commit, so change IDs are
// allocated and committed in the same order. Without it a poller reading
// "id > last" could pass over an ID whose transaction commits late.
func (s *Store) recordChange(ctx context.Context, tx conn, wsID, kind, key string) error {
	if s.flavor.name == flavorPostgres.name {
		if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, changesLockID); err != nil {
			return err
		}
	}
	_, err := tx.exec(ctx, `INSERT INTO changes (workspace_id, kind, item_key, at) VALUES (?, ?, ?, ?)`,
		wsID, kind, key, toMillis(s.now()))
	return err
}

// maxChangesBatch bounds one Changes call.
const maxChangesBatch = 1000

// Changes returns change events with ID > afterID in ID order.
func (s *Store) Changes(ctx context.Context, afterID int64, limit int) ([]storage.Change, error) {
	if limit <= 0 || limit > maxChangesBatch {
		limit = maxChangesBatch
	}
	rows, err := s.reader().query(ctx,
		`SELECT id, workspace_id, kind, item_key, at FROM changes WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, mapError("changes", err)
	}
	defer rows.Close()
	var out []storage.Change
	for rows.Next() {
		var c storage.Change
		var at int64
		if err := rows.Scan(&c.ID, &c.WorkspaceID, &c.Kind, &c.Key, &at); err != nil {
			return nil, mapError("changes", err)
		}
		c.At = fromMillis(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("changes", err)
	}
	return out, nil
}

// LastChangeID is the ID of the newest change event (0 if none).
func (s *Store) LastChangeID(ctx context.Context) (int64, error) {
	var id *int64
	if err := s.reader().queryRow(ctx, `SELECT MAX(id) FROM changes`).Scan(&id); err != nil {
		return 0, mapError("last change id", err)
	}
	if id == nil {
		return 0, nil
	}
	return *id, nil
}
