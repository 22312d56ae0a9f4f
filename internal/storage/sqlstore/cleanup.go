package sqlstore

import (
	"context"
	"strconv"
	"time"
)

// cleanupBatch is the most rows one clean-up statement deletes on SQLite.
// A variable so that tests can make batches small.
var cleanupBatch = 250

// deleteExpiredRows deletes table's rows matching cond and returns how many
// it deleted. On SQLite, whose one writer serves every write of the
// process, it deletes at most cleanupBatch rows per statement, each
// committing on its own, and takes the write lock anew for each: a token
// request's write (a group commit) waits behind one batch of a few
// milliseconds, not behind the whole clean-up of a backlog
// (docs/benchmarks.md, "Clean-up under load": 2 s of blocked writes for
// 300,000 expired jtis in one statement). PostgreSQL deletes in one
// statement: it locks only the expired rows, which no request uses.
func (s *Store) deleteExpiredRows(ctx context.Context, op, table, cond string, args ...any) (int64, error) {
	q := `DELETE FROM ` + table + ` WHERE ` + cond
	batched := s.flavor.name == flavorSQLite.name
	if batched {
		q = `DELETE FROM ` + table + ` WHERE rowid IN (SELECT rowid FROM ` + table + ` WHERE ` + cond +
			` LIMIT ` + strconv.Itoa(cleanupBatch) + `)`
	}
	var total int64
	for {
		start := time.Now()
		res, err := s.reader().exec(ctx, q, args...)
		if err != nil {
			return total, mapError(op, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, mapError(op, err)
		}
		total += n
		if !batched || n < int64(cleanupBatch) {
			return total, nil
		}
		// Rest as long as the batch took: the clean-up then holds the
		// writer at most half the time, and the fsyncs of its commits
		// do not queue back to back with the requests' own.
		select {
		case <-time.After(time.Since(start)):
		case <-ctx.Done():
			return total, mapError(op, ctx.Err())
		}
	}
}
