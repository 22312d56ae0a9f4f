package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/latchkey/latchkey/internal/storage"
)

// rotateBatchMax and redeemBatchMax bound one group commit of refresh
// rotations and of authorization code redemptions.
const (
	rotateBatchMax = 64
	redeemBatchMax = 64
)

// rotationQueries and redemptionQueries are the statements of a rotation
// and of a redemption, prepared before their transactions (stmtcache.go).
var (
	rotationQueries   = []string{rotateCurrentQuery, touchCurrentQuery, insertRefreshQuery, tokenGenQuery}
	redemptionQueries = []string{spendCodeQuery, insertFamilyQuery, insertRefreshQuery}
)

// rotateCall is one rotation in a batch; the flush fills out.
type rotateCall struct {
	r   storage.RefreshRotation
	out storage.RotationResult
}

// rotateBatched group-commits concurrent rotations (batcher): a refresh
// rotation is a transaction of two statements whose cost is the commit
// (SQLite's fsync, PostgreSQL's round trips and WAL flush), so N
// concurrent rotations share one commit. Each is the very rotation
// rotateInTx makes alone, run in arrival order within the transaction, so
// two redemptions of one token in one batch resolve exactly as two
// transactions would: the first rotates, the second is reuse and revokes
// the family.
func (s *Store) rotateBatched(ctx context.Context, r storage.RefreshRotation) (storage.RotationResult, error) {
	call := &rotateCall{r: r}
	if err := s.rotateBatch.do(ctx, call); err != nil {
		if err == ctx.Err() {
			return storage.RotationResult{}, mapError("rotate refresh token", err)
		}
		return storage.RotationResult{}, err
	}
	return call.out, nil
}

// batchItemError is an unexpected failure of one item in a batch: the
// transaction is rolled back and every item run alone, so one bad item
// never fails the others.
type batchItemError struct{ err error }

func (e batchItemError) Error() string { return e.err.Error() }

// flushEach is the group commit of independent items (rotations,
// redemptions, status ties): one transaction runs every item's own
// statements in arrival order. inTx returns the item's outcome (nil or
// the error its caller gets) or an unexpected error: a retryable one
// retries the whole batch (inTx of Store), any other rolls it back and
// runs each item alone, so it stays with its own caller. A batch of one
// runs alone at once.
func flushEach[T any](ctx context.Context, s *Store, what string, queries []string, items []T,
	inTx func(tx conn, item T) (outcome, unexpected error), alone func(item T) error) ([]error, error) {
	results := make([]error, len(items))
	if len(items) == 1 {
		results[0] = alone(items[0])
		return results, nil
	}
	s.warm(ctx, queries...)
	err := s.inTx(ctx, what, func(tx conn) error {
		clear(results)
		for i, it := range items {
			outcome, err := inTx(tx, it)
			switch {
			case err == nil:
				results[i] = outcome
			case isRetryable(err):
				return err // the whole batch is retried by inTx
			default:
				return abort{batchItemError{err}}
			}
		}
		return nil
	})
	if _, ok := errors.AsType[batchItemError](err); ok {
		for i, it := range items {
			results[i] = alone(it)
		}
		return results, nil
	}
	return results, err
}

// flushRotations runs a batch in one transaction. Outcomes that write
// nothing (unknown token, dead family, lost race) are results of their
// item; reuse is a result too, after its revocation, which the commit
// keeps.
func (s *Store) flushRotations(ctx context.Context, calls []*rotateCall) ([]error, error) {
	return flushEach(ctx, s, "rotate refresh tokens", rotationQueries, calls,
		func(tx conn, c *rotateCall) (error, error) {
			out, reused, err := s.rotateInTx(ctx, tx, c.r)
			switch a, isAbort := errors.AsType[abort](err); {
			case err == nil && reused:
				return storage.ErrRefreshReused, nil
			case err == nil:
				c.out = out
				return nil, nil
			case isAbort:
				return a.err, nil
			case errors.Is(err, sql.ErrNoRows):
				return storage.ErrNotFound, nil
			}
			return nil, err
		},
		func(c *rotateCall) (err error) {
			c.out, err = s.rotateAlone(ctx, c.r)
			return err
		})
}

// redeemBatched group-commits concurrent authorization code redemptions,
// as rotateBatched does rotations: each redemption is redeemInTx exactly
// as alone (a conditional UPDATE spends the code, so two redemptions of
// one code in one batch leave one winner).
func (s *Store) redeemBatched(ctx context.Context, r codeRedemption) error {
	err := s.redeemBatch.do(ctx, r)
	if err != nil && err == ctx.Err() {
		return mapError("redeem authorization code", err)
	}
	return err
}

// flushRedemptions runs a batch of redemptions in one transaction; an
// unexpected failure of one item rolls back and redeems each alone.
func (s *Store) flushRedemptions(ctx context.Context, rs []codeRedemption) ([]error, error) {
	return flushEach(ctx, s, "redeem authorization codes", redemptionQueries, rs,
		func(tx conn, r codeRedemption) (error, error) {
			err := s.redeemInTx(ctx, tx, r)
			if a, isAbort := errors.AsType[abort](err); isAbort {
				return a.err, nil
			}
			return nil, err
		},
		func(r codeRedemption) error { return s.redeemAlone(ctx, r) })
}
