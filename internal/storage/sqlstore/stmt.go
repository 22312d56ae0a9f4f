package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// lazyStmt is a statement prepared on the pool at first use rather than at
// Open: before migrations (WithoutMigrate) its table may not exist yet, and
// a failed prepare is retried by the next call instead of being cached.
// database/sql prepares it again on each pool connection as needed.
type lazyStmt struct {
	db    *sql.DB
	query string

	mu   sync.Mutex
	stmt *sql.Stmt
}

func (l *lazyStmt) get(ctx context.Context) (*sql.Stmt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stmt != nil {
		return l.stmt, nil
	}
	stmt, err := l.db.PrepareContext(ctx, l.query)
	if err != nil {
		return nil, err
	}
	l.stmt = stmt
	return stmt, nil
}

func (l *lazyStmt) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stmt != nil {
		_ = l.stmt.Close()
		l.stmt = nil
	}
}
