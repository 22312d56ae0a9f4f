package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache holds the statements of the hot write paths (refresh rotation,
// code redemption and their reads), each prepared on the pool once
// (lazyStmt) and reused by every transaction. It exists for SQLite only:
// modernc.org/sqlite parses a query's SQL on every call that is not a
// prepared statement, which the profile of a refresh rotation put at 9% of
// its CPU (docs/benchmarks.md, "Refresh rotation and code redemption
// profiled"). PostgreSQL needs none: pgx caches its prepared statements
// itself.
type stmtCache struct {
	db *sql.DB
	fl flavor

	mu sync.Mutex
	m  map[string]*lazyStmt
}

func newStmtCache(db *sql.DB, fl flavor) *stmtCache {
	return &stmtCache{db: db, fl: fl, m: map[string]*lazyStmt{}}
}

// get returns query prepared on the pool. It may need a pool connection,
// so it must not be called while this goroutine holds a transaction (the
// SQLite pool may have no other connection to give): transactions use
// what warm prepared before they began (peek). The cache only ever holds
// the constant queries of this package, so it needs no bound.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	l, ok := c.m[query]
	if !ok {
		l = &lazyStmt{db: c.db, query: c.fl.translate(query)}
		c.m[query] = l
	}
	c.mu.Unlock()
	return l.get(ctx)
}

// peek returns query if it is already prepared, else nil. It never
// waits: a transaction's goroutine holds a pool connection, and another
// goroutine may be preparing this very statement while it waits for one
// (with SQLite's ":memory:" pool of one, that would never end).
func (c *stmtCache) peek(query string) *sql.Stmt {
	c.mu.Lock()
	l := c.m[query]
	c.mu.Unlock()
	if l == nil || !l.mu.TryLock() {
		return nil
	}
	defer l.mu.Unlock()
	return l.stmt
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.m {
		l.close()
	}
}

// execFn runs a statement that returns no rows.
type execFn func(ctx context.Context, query string, args ...any) (sql.Result, error)

// warm prepares queries on the pool before a transaction that uses them
// begins (see get). A failure is not an error: the transaction then runs
// the plain query.
func (s *Store) warm(ctx context.Context, queries ...string) {
	if s.stmts == nil {
		return
	}
	for _, q := range queries {
		_, _ = s.stmts.get(ctx, q)
	}
}

// cached returns the statement to run query on c: inside a transaction
// the pooled statement (prepared by warm) bound to it, where release
// closes that binding and not the pooled statement; outside one the
// pooled statement itself. It returns nil, and the caller runs the plain
// query, when the store has no cache (PostgreSQL) or a transaction's
// statement was not warmed. Outside a transaction only reads may use it:
// a write there must take the SQLite write lock, which conn.exec does.
func (s *Store) cached(ctx context.Context, c conn, query string) (st *sql.Stmt, release func(), err error) {
	if s.stmts == nil {
		return nil, nil, nil
	}
	if tx, ok := c.q.(*sql.Tx); ok {
		pooled := s.stmts.peek(query)
		if pooled == nil {
			return nil, nil, nil
		}
		st = tx.StmtContext(ctx, pooled)
		return st, func() { _ = st.Close() }, nil
	}
	pooled, err := s.stmts.get(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	return pooled, func() {}, nil
}

// txExec is tx.exec through the statement cache; tx must be a transaction.
func (s *Store) txExec(tx conn) execFn {
	return func(ctx context.Context, query string, args ...any) (sql.Result, error) {
		st, release, err := s.cached(ctx, tx, query)
		if err != nil {
			return nil, err
		}
		if st == nil {
			return tx.exec(ctx, query, args...)
		}
		defer release()
		return st.ExecContext(ctx, args...)
	}
}

// scanCached runs a query returning one row through the statement cache
// and scans it into dest (sql.ErrNoRows when there is none).
func (s *Store) scanCached(ctx context.Context, c conn, query string, args []any, dest ...any) error {
	st, release, err := s.cached(ctx, c, query)
	if err != nil {
		return err
	}
	if st == nil {
		return c.queryRow(ctx, query, args...).Scan(dest...)
	}
	defer release()
	return st.QueryRowContext(ctx, args...).Scan(dest...)
}

// cachedRow is one row of a query run through the statement cache when
// it is scanned, for scanners written against *sql.Row. The query must be
// one of this package's constant queries (the cache has no bound): the
// point reads that a request makes when its row is not in
// internal/cache, where SQLite's parse of the query cost as much as the
// read (docs/benchmarks.md, "The uncached client read").
type cachedRow struct {
	ctx   context.Context
	s     *Store
	c     conn
	query string
	args  []any
}

func (s *Store) cachedRow(ctx context.Context, c conn, query string, args ...any) cachedRow {
	return cachedRow{ctx: ctx, s: s, c: c, query: query, args: args}
}

func (r cachedRow) Scan(dest ...any) error {
	return r.s.scanCached(r.ctx, r.c, r.query, r.args, dest...)
}
