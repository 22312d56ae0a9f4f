package sqlstore

import "context"

// rowUpdate says how updateRow reads, checks and writes one kind of row.
// Its functions run inside the transaction, which inTx may retry: they
// must have no effect outside it.
type rowUpdate[T any] struct {
	// op names the operation in errors and logs ("update client").
	op string
	// lock reads the current row and holds it until the transaction ends
	// (FOR UPDATE on PostgreSQL; on SQLite the transaction holds the
	// database's write lock), so concurrent updates apply one after
	// another and none is lost.
	lock func(tx conn) (T, error)
	// prepare pins what the updater may not change (workspace, ID), checks
	// the result and returns the arguments of its write. Its error, like
	// the updater's, is the caller's: returned unchanged, never retried.
	prepare func(next *T) ([]any, error)
	// write stores next, given prepare's arguments. Its error is the
	// database's: retried when transient, mapped to the storage sentinels.
	write func(tx conn, next T, args []any) error
}

// updateRow is the shape of every UpdateX(id, updater) of the storage
// contract: in one transaction, lock the row, run updater on it, and
// write back what it returns. An updater error aborts the transaction and
// is returned unchanged; the result is what was written.
func updateRow[T any](ctx context.Context, s *Store, u rowUpdate[T], updater func(T) (T, error)) (T, error) {
	var out T
	err := s.inTx(ctx, u.op, func(tx conn) error {
		cur, err := u.lock(tx)
		if err != nil {
			return err
		}
		next, err := updater(cur)
		if err != nil {
			return abort{err}
		}
		args, err := u.prepare(&next)
		if err != nil {
			return abort{err}
		}
		if err := u.write(tx, next, args); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// execAndRecord is the write of a workspace object whose update is one
// statement: it runs query with prepare's arguments and records the change
// (kind, key) that caches and other processes follow.
func execAndRecord[T any](ctx context.Context, s *Store, query, workspaceID, kind, key string) func(tx conn, next T, args []any) error {
	return func(tx conn, _ T, args []any) error {
		if _, err := tx.exec(ctx, query, args...); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, workspaceID, kind, key)
	}
}

// execOnly is the write of a row whose update is one statement and
// records no change event.
func execOnly[T any](ctx context.Context, query string) func(tx conn, next T, args []any) error {
	return func(tx conn, _ T, args []any) error {
		_, err := tx.exec(ctx, query, args...)
		return err
	}
}
