package storage

import (
	"context"
	"time"
)

// StatusLists holds the state behind the workspaces' token status lists
// (IETF draft-ietf-oauth-status-list): the index allocator, the indexes
// revoked directly and the indexes of access tokens issued from a
// refresh-token family. Indexes are per workspace, from 0 upwards; each
// is handed out once.
type StatusLists interface {
	// ReserveStatusIndexes reserves n consecutive indexes of the
	// workspace and returns the first. One atomic statement: concurrent
	// calls on any number of processes get disjoint ranges. n must be
	// positive; an unknown workspace is ErrNotFound.
	ReserveStatusIndexes(ctx context.Context, workspaceID string, n int64) (first int64, err error)
	// ReservedStatusIndexes is the number of indexes of the workspace
	// reserved so far (every index below it may be in use); 0 for a
	// workspace that reserved none or does not exist.
	ReservedStatusIndexes(ctx context.Context, workspaceID string) (int64, error)
	// RecordStatusFamily ties index idx to token family familyID at now,
	// so that revoking or deleting the family revokes the index. The
	// family need not exist yet. An index may be tied to several families
	// (any of them revokes it); recording the same tie twice changes
	// nothing.
	RecordStatusFamily(ctx context.Context, workspaceID string, idx int64, familyID string, expiresAt, now time.Time) error
	// RevokeStatus marks index idx revoked. Revoking it again changes
	// nothing and is no error.
	RevokeStatus(ctx context.Context, workspaceID string, idx int64, expiresAt, now time.Time) error
	// RevokedStatuses returns, in ascending order, the revoked indexes in
	// [from, to): those revoked directly, those tied to a revoked family,
	// and those tied before orphanedBefore to a family that does not
	// exist.
	RevokedStatuses(ctx context.Context, workspaceID string, from, to int64, orphanedBefore time.Time) ([]int64, error)
}
