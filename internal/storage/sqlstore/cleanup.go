package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The clean-up's pace on SQLite (docs/benchmarks.md, "Clean-up under load,
// round two"). Variables so that tests can change them.
var (
	// cleanupBatch is the most rows one clean-up statement deletes.
	cleanupBatch = 25
	// cleanupRestBusy and cleanupRestIdle: after each batch the clean-up
	// rests this many times as long as the batch took, the first while
	// requests are writing (requestWritesBusy).
	cleanupRestBusy = 4.0
	cleanupRestIdle = 0.5
)

// cleanupScanPage is how many rows one read of a table without such an
// index examines. A variable so that tests can make pages small.
var cleanupScanPage = 500

// cleanupBusyWindow: requests whose group commit ran this recently are
// still writing, and the clean-up rests longer between its batches.
const cleanupBusyWindow = 100 * time.Millisecond

// cleanupTable is what the clean-up knows of a table it deletes from.
type cleanupTable struct {
	// key names the primary key columns. A batch selects its rows by key
	// rather than by rowid, which a WITHOUT ROWID table does not have;
	// TestCleanupKeysArePrimaryKeys checks them against the schema.
	key string
	// indexed: an expires_at (or at) index serves the clean-up condition,
	// so a batch finds its rows through it, touching expired rows only.
	// The other tables are read page by page in key order
	// (deleteExpiredByScan).
	indexed bool
}

// cleanupTables are the tables the clean-up deletes from.
var cleanupTables = map[string]cleanupTable{
	"jti_replay":            {key: "workspace_id, namespace, issuer, jti", indexed: true},
	"revoked_tokens":        {key: "workspace_id, jti", indexed: true},
	"opaque_tokens":         {key: "workspace_id, hash", indexed: true},
	"pushed_requests":       {key: "workspace_id, hash", indexed: true},
	"status_list_revoked":   {key: "workspace_id, idx"},
	"status_list_families":  {key: "workspace_id, idx, family_id"},
	"initial_access_tokens": {key: "workspace_id, id"},
	"changes":               {key: "id", indexed: true},
	"auth_requests":         {key: "workspace_id, id"},
	"auth_codes":            {key: "workspace_id, hash"},
	"device_codes":          {key: "workspace_id, hash", indexed: true},
	"ciba_requests":         {key: "workspace_id, hash", indexed: true},
	"browser_sessions":      {key: "workspace_id, id"},
	"password_tokens":       {key: "workspace_id, hash"},
	"login_counters":        {key: "workspace_id, counter_key"},
	"token_families":        {key: "workspace_id, id"},
	"console_sessions":      {key: "id_hash"},
	"one_time_codes":        {key: "admin_user_id, workspace_id, client_id"},
}

// deleteExpiredRows deletes table's rows matching cond and returns how many
// it deleted.
//
// On SQLite, whose one writer serves every write of the process, it
// deletes at most cleanupBatch rows per statement, each committing on its
// own and taking the write lock anew: a request's write (a group commit)
// waits behind one short batch, not behind the whole clean-up of a backlog
// (docs/benchmarks.md, "Clean-up under load": 2 s of blocked writes for
// 300,000 expired jtis in one statement). Between batches it rests in
// proportion to the batch's time (restAfter), so that under load it holds
// the writer, the disk and a core only a small share of the time.
//
// PostgreSQL deletes in one statement: it locks only the expired rows,
// which no request uses, and its writers do not wait for one another.
func (s *Store) deleteExpiredRows(ctx context.Context, op, table, cond string, args ...any) (int64, error) {
	if s.flavor.name != flavorSQLite.name {
		n, err := s.execCount(ctx, `DELETE FROM `+table+` WHERE `+cond, args...)
		return n, mapError(op, err)
	}
	if !cleanupTables[table].indexed {
		return s.deleteExpiredByScan(ctx, op, table, cond, args...)
	}
	q, err := batchDeleteQuery(table, cond)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	var total int64
	for {
		start := time.Now()
		n, err := s.deleteBatch(ctx, q, args...)
		total += n
		if err != nil {
			return total, mapError(op, err)
		}
		if n < int64(cleanupBatch) {
			return total, nil
		}
		if err := s.restAfter(ctx, start); err != nil {
			return total, mapError(op, err)
		}
	}
}

// batchDeleteQuery deletes at most cleanupBatch of table's rows matching
// cond, chosen by primary key. The subquery finds them through the
// table's expires_at index where it has one, in that index's order.
func batchDeleteQuery(table, cond string) (string, error) {
	t, ok := cleanupTables[table]
	if !ok {
		return "", fmt.Errorf("no primary key known for table %s", table)
	}
	key := t.key
	return `DELETE FROM ` + table + ` WHERE (` + key + `) IN (SELECT ` + key + ` FROM ` + table +
		` WHERE ` + cond + ` LIMIT ` + strconv.Itoa(cleanupBatch) + `)`, nil
}

// execCount runs one write and returns the rows it affected.
func (s *Store) execCount(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.reader().exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// deleteBatch runs one batch of the clean-up under the write lock, on a
// connection of its own whose commit does not wait for fsync
// (synchronous=NORMAL): a request's write queued behind the batch then
// waits for the statement only, not for a flush of the disk, which took
// most of a batch's time on a busy disk (docs/benchmarks.md, "Clean-up
// under load, round two"). The deletes still commit atomically; a power
// loss can only undo some of them, which brings back rows that are expired
// and removed again by the next clean-up. The commits of requests keep
// synchronous=FULL, and their fsync of the WAL also makes every frame
// before theirs durable, so what a request was told is unchanged
// (the package doc: synchronous=FULL, reliability invariant 2).
func (s *Store) deleteBatch(ctx context.Context, q string, args ...any) (int64, error) {
	if err := s.wl.lock(ctx); err != nil {
		return 0, err
	}
	defer s.wl.unlock()
	c, err := s.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return 0, err
	}
	defer restoreFullSync(c)
	res, err := c.ExecContext(ctx, s.flavor.translate(q), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// restoreFullSync sets c back to synchronous=FULL before it returns to the
// pool, where requests' writes use it; a connection that cannot be set
// back is discarded (driver.ErrBadConn) rather than reused.
func restoreFullSync(c *sql.Conn) {
	if _, err := c.ExecContext(context.Background(), `PRAGMA synchronous = FULL`); err != nil {
		_ = c.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// restAfter rests a multiple of the batch's time (from start, when it
// asked for the write lock, to its commit; a wait behind requests' writes
// lengthens the rest): cleanupRestBusy while requests write, so that the
// clean-up holds the writer and a core only a small share of the time and
// requests rarely queue behind a batch, and cleanupRestIdle otherwise, so
// that an idle server clears a backlog fast. A checkpoint of the WAL after
// each batch, outside the write lock, was measured and dropped: it slowed
// the clean-up and did not lower the requests' p99.
func (s *Store) restAfter(ctx context.Context, start time.Time) error {
	batch := time.Since(start)
	factor := cleanupRestIdle
	if s.requestWritesBusy() {
		factor = cleanupRestBusy
	}
	return sleep(ctx, time.Duration(float64(batch)*factor))
}

// requestWritesBusy reports whether a group commit of request writes (the
// jtis of JWT bearer grants and DPoP proofs, opaque tokens, refresh
// rotations, code redemptions, status-list ties) is queued, running, or
// ended within cleanupBusyWindow.
func (s *Store) requestWritesBusy() bool {
	return batcherBusy(s.jtiBatch) || batcherBusy(s.opaqueBatch) || batcherBusy(s.rotateBatch) ||
		batcherBusy(s.redeemBatch) || batcherBusy(s.statusBatch)
}

func batcherBusy[T any](b *batcher[T]) bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.running || !b.lastFlush.IsZero() && time.Since(b.lastFlush) < cleanupBusyWindow
}

// deleteExpiredByScan is the SQLite clean-up of a table whose condition no
// index serves (token families, codes, sessions, counters, status-list
// rows). Selecting each batch inside its DELETE would scan the table under
// the write lock, again for every batch: at 10^7 token families, seconds
// of blocked request writes per batch. Instead it reads the table a page
// at a time in primary-key order, each page from where the last ended, on
// a reader connection (WAL readers never wait for the writer nor block
// it), with the condition evaluated per row; then it deletes the expired
// keys of the page by primary key, cleanupBatch at a time under the write
// lock, the condition checked again in the DELETE so that a row changed
// since the read (a family used again) is kept. A whole clean-up reads the
// table once, and resting between pages and batches (restAfter) paces it.
func (s *Store) deleteExpiredByScan(ctx context.Context, op, table, cond string, args ...any) (int64, error) {
	t, ok := cleanupTables[table]
	if !ok {
		return 0, fmt.Errorf("sqlstore: %s: no primary key known for table %s", op, table)
	}
	key := t.key
	width := len(strings.Split(key, ","))
	var total int64
	var cursor []any
	for {
		start := time.Now()
		expired, last, err := s.scanExpiredPage(ctx, table, key, width, cond, args, cursor)
		if err != nil {
			return total, mapError(op, err)
		}
		for len(expired) > 0 {
			n := min(len(expired), cleanupBatch*width)
			del := `DELETE FROM ` + table + ` WHERE (` + key + `) IN (VALUES ` + valuesRows(n/width, width) + `) AND (` + cond + `)`
			deleted, err := s.deleteBatch(ctx, del, append(expired[:n:n], args...)...)
			total += deleted
			if err != nil {
				return total, mapError(op, err)
			}
			expired = expired[n:]
			if err := s.restAfter(ctx, start); err != nil {
				return total, mapError(op, err)
			}
			start = time.Now()
		}
		if last == nil {
			return total, nil
		}
		cursor = last
		if err := s.restAfter(ctx, start); err != nil {
			return total, mapError(op, err)
		}
	}
}

// scanExpiredPage reads up to cleanupScanPage rows of table after cursor
// (nil: from the start) in key order and returns the key values of those
// matching cond, flattened, and the last key read; last is nil when the
// page was the table's last.
func (s *Store) scanExpiredPage(ctx context.Context, table, key string, width int, cond string, condArgs, cursor []any) (expired, last []any, err error) {
	q := `SELECT ` + key + `, CASE WHEN (` + cond + `) THEN 1 ELSE 0 END FROM ` + table
	args := append([]any(nil), condArgs...)
	if cursor != nil {
		q += ` WHERE (` + key + `) > (` + placeholders(width) + `)`
		args = append(args, cursor...)
	}
	q += ` ORDER BY ` + key + ` LIMIT ` + strconv.Itoa(cleanupScanPage)
	rows, err := s.reader().query(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	read := 0
	row := make([]any, width+1)
	dest := make([]any, width+1)
	for i := range dest {
		dest[i] = &row[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, err
		}
		read++
		if match, _ := row[width].(int64); match == 1 {
			expired = append(expired, row[:width]...)
		}
		last = append(last[:0], row[:width]...)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if read < cleanupScanPage {
		last = nil
	}
	return expired, last, nil
}

// valuesRows is the VALUES list of n rows of width placeholders.
func valuesRows(n, width int) string {
	return strings.TrimSuffix(strings.Repeat("("+placeholders(width)+"), ", n), ", ")
}

// placeholders is width comma-separated placeholders.
func placeholders(width int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", width), ", ")
}
