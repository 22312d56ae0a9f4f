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

// rotateItemError is an unexpected failure of one item in a batch:
// the transaction is rolled back and every rotation retried alone, so one
// bad item never fails the others.
type rotateItemError struct{ err error }

func (e rotateItemError) Error() string { return e.err.Error() }

// flushRotations runs a batch in one transaction. Outcomes that write
// nothing (unknown token, dead family, lost race) are results of their
// item; reuse is a result too, after its revocation, which the commit
// keeps.
func (s *Store) flushRotations(ctx context.Context, calls []*rotateCall) ([]error, error) {
	results := make([]error, len(calls))
	if len(calls) == 1 {
		var err error
		calls[0].out, err = s.rotateAlone(ctx, calls[0].r)
		results[0] = err
		return results, nil
	}
	s.warm(ctx, rotationQueries...)
	err := s.inTx(ctx, "rotate refresh tokens", func(tx conn) error {
		clear(results)
		for i, c := range calls {
			out, reused, err := s.rotateInTx(ctx, tx, c.r)
			switch a, isAbort := errors.AsType[abort](err); {
			case err == nil && reused:
				results[i] = storage.ErrRefreshReused
			case err == nil:
				c.out = out
			case isAbort:
				results[i] = a.err
			case errors.Is(err, sql.ErrNoRows):
				results[i] = storage.ErrNotFound
			case isRetryable(err):
				return err // the whole batch is retried by inTx
			default:
				return abort{rotateItemError{err}}
			}
		}
		return nil
	})
	if _, ok := errors.AsType[rotateItemError](err); ok {
		for i, c := range calls {
			c.out, results[i] = s.rotateAlone(ctx, c.r)
		}
		return results, nil
	}
	return results, err
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
	results := make([]error, len(rs))
	if len(rs) == 1 {
		results[0] = s.redeemAlone(ctx, rs[0])
		return results, nil
	}
	s.warm(ctx, redemptionQueries...)
	err := s.inTx(ctx, "redeem authorization codes", func(tx conn) error {
		clear(results)
		for i, r := range rs {
			err := s.redeemInTx(ctx, tx, r)
			switch a, isAbort := errors.AsType[abort](err); {
			case err == nil:
			case isAbort:
				results[i] = a.err
			case isRetryable(err):
				return err
			default:
				return abort{rotateItemError{err}}
			}
		}
		return nil
	})
	if _, ok := errors.AsType[rotateItemError](err); ok {
		for i, r := range rs {
			results[i] = s.redeemAlone(ctx, r)
		}
		return results, nil
	}
	return results, err
}
