package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ReserveStatusIndexes reserves n indexes of the workspace's token status
// lists (draft-ietf-oauth-status-list §6.2) with one upsert ... RETURNING
// on the workspace's allocation row: the row lock of the upsert (SQLite's
// single writer) serialises concurrent reservations, so every caller on
// every process gets a range of its own.
func (s *Store) ReserveStatusIndexes(ctx context.Context, workspaceID string, n int64) (int64, error) {
	if n <= 0 {
		return 0, errors.New("sqlstore: reserve status indexes: n must be positive")
	}
	if !findable(workspaceID) {
		return 0, mapError("reserve status indexes", sql.ErrNoRows)
	}
	var next int64
	err := s.reader().writeRow(ctx, func(row *sql.Row) error { return row.Scan(&next) },
		`INSERT INTO status_list_alloc (workspace_id, next_index) VALUES (?, ?)
ON CONFLICT (workspace_id) DO UPDATE SET next_index = status_list_alloc.next_index + ?
RETURNING next_index`, workspaceID, n, n)
	if err != nil {
		return 0, mapError("reserve status indexes", err) // a foreign key violation: ErrNotFound
	}
	return next - n, nil
}

// RecordStatusFamily ties an access token's index to a token family.
// Concurrent calls share one commit (statusbatch.go).
func (s *Store) RecordStatusFamily(ctx context.Context, workspaceID string, idx int64, familyID string, expiresAt, now time.Time) error {
	return s.recordStatusTie(ctx, statusTie{workspaceID: workspaceID, idx: idx, familyID: familyID, expiresAt: expiresAt, now: now})
}

// RevokeStatus sets an index's bit; one idempotent insert.
func (s *Store) RevokeStatus(ctx context.Context, workspaceID string, idx int64, expiresAt, now time.Time) error {
	_, err := s.reader().exec(ctx, `INSERT INTO status_list_revoked (workspace_id, idx, revoked_at, expires_at)
VALUES (?, ?, ?, ?) ON CONFLICT (workspace_id, idx) DO NOTHING`, workspaceID, idx, toMillis(now), toMillis(expiresAt))
	return mapError("revoke status", err)
}

// RevokedStatuses reads the revoked indexes of [from, to) in one query:
// the direct revocations and the indexes of revoked or deleted families.
func (s *Store) RevokedStatuses(ctx context.Context, workspaceID string, from, to int64, orphanedBefore time.Time) ([]int64, error) {
	rows, err := s.reader().query(ctx, `SELECT idx FROM status_list_revoked WHERE workspace_id = ? AND idx >= ? AND idx < ?
UNION
SELECT e.idx FROM status_list_families e LEFT JOIN token_families f ON f.workspace_id = e.workspace_id AND f.id = e.family_id
WHERE e.workspace_id = ? AND e.idx >= ? AND e.idx < ? AND ((f.id IS NULL AND e.recorded_at < ?) OR f.revoked_at <> 0)
ORDER BY 1`, workspaceID, from, to, workspaceID, from, to, toMillis(orphanedBefore))
	if err != nil {
		return nil, mapError("list revoked statuses", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var idx int64
		if err := rows.Scan(&idx); err != nil {
			return nil, mapError("list revoked statuses", err)
		}
		out = append(out, idx)
	}
	return out, mapError("list revoked statuses", rows.Err())
}

// ReservedStatusIndexes reads the workspace's allocation row.
func (s *Store) ReservedStatusIndexes(ctx context.Context, workspaceID string) (int64, error) {
	var next int64
	err := s.reader().queryRow(ctx, `SELECT next_index FROM status_list_alloc WHERE workspace_id = ?`, workspaceID).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return next, mapError("read reserved status indexes", err)
}
