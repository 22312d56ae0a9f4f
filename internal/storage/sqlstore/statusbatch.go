package sqlstore

import (
	"context"
	"time"
)

// statusTie is one RecordStatusFamily call.
type statusTie struct {
	workspaceID string
	idx         int64
	familyID    string
	expiresAt   time.Time
	now         time.Time
}

// statusTieBatchMax bounds one group commit of status ties.
const statusTieBatchMax = 64

const recordStatusFamilyQuery = `INSERT INTO status_list_families (workspace_id, idx, family_id, recorded_at, expires_at)
VALUES (?, ?, ?, ?, ?) ON CONFLICT (workspace_id, idx, family_id) DO NOTHING`

// recordStatusTie group-commits concurrent status ties (batcher): every
// refresh rotation and code redemption ties its access token's status
// index to its family, a write of its own that the profile of a refresh
// over HTTP put at ~0.2 ms of CPU, most of it the commit
// (docs/benchmarks.md, "Refresh rotation and code redemption
// profiled"). Each caller is answered after the commit that carries its
// row, as before.
func (s *Store) recordStatusTie(ctx context.Context, t statusTie) error {
	if s.statusBatch == nil {
		return s.recordStatusTieAlone(ctx, t)
	}
	err := s.statusBatch.do(ctx, t)
	if err != nil && err == ctx.Err() {
		return mapError("record status family", err)
	}
	return err
}

func (s *Store) recordStatusTieAlone(ctx context.Context, t statusTie) error {
	_, err := s.reader().exec(ctx, recordStatusFamilyQuery, t.workspaceID, t.idx, t.familyID, toMillis(t.now), toMillis(t.expiresAt))
	return mapError("record status family", err)
}

// flushStatusTies writes a batch in one transaction; an unexpected failure
// of one item (an unknown workspace) rolls back and writes each alone, so
// it stays with its own caller.
func (s *Store) flushStatusTies(ctx context.Context, ts []statusTie) ([]error, error) {
	return flushEach(ctx, s, "record status families", []string{recordStatusFamilyQuery}, ts,
		func(tx conn, t statusTie) (error, error) {
			_, err := s.txExec(tx)(ctx, recordStatusFamilyQuery, t.workspaceID, t.idx, t.familyID, toMillis(t.now), toMillis(t.expiresAt))
			return nil, err
		},
		func(t statusTie) error { return s.recordStatusTieAlone(ctx, t) })
}
