package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey/internal/storage"
)

// Bulk loading for scale benchmarks (`latchkey bench seed`, docs/benchmarks.md
// "Scale"): each call writes its whole slice in one transaction, so a
// million rows cost a hundred commits instead of a million, and through
// multi-row INSERT statements prepared once per call, so SQLite compiles
// one statement per few hundred rows instead of one per row. The rows are
// exactly what the Create methods write (same columns, same encodings).
// Clients, users and services get their change records, so caches of
// running servers see them; token families, refresh tokens and consents
// have none in the Create methods either (no server caches them: they are
// read from the database on every use). Seeding skips the per-row audit:
// it is an operator's benchmark action, audited once by the command.

// bulkParams bounds the bind parameters of one multi-row statement, well
// below SQLite's 32,766 and PostgreSQL's 65,535.
const bulkParams = 8000

// bulkRowsPerStatement is how many rows of ncols columns one statement
// carries.
func bulkRowsPerStatement(ncols int) int { return max(1, min(500, bulkParams/ncols)) }

// multiRowInsert is "head VALUES (?, ...), (?, ...) tail" for rows rows of
// ncols columns.
func multiRowInsert(head, tail string, ncols, rows int) string {
	one := "(" + strings.Repeat("?, ", ncols-1) + "?)"
	var b strings.Builder
	b.Grow(len(head) + len(tail) + rows*(len(one)+2) + 8)
	b.WriteString(head)
	b.WriteString(" VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	b.WriteString(tail)
	return b.String()
}

// bulkInsert writes rows (each ncols values, in column order) with
// multi-row INSERT statements: the full-size statement is prepared once
// and reused, the last, shorter one is run as is.
func bulkInsert(ctx context.Context, tx conn, head, tail string, ncols int, rows [][]any) error {
	per := bulkRowsPerStatement(ncols)
	var full *sql.Stmt
	if len(rows) >= per {
		st, err := tx.prepare(ctx, multiRowInsert(head, tail, ncols, per))
		if err != nil {
			return err
		}
		defer st.Close()
		full = st
	}
	args := make([]any, 0, per*ncols)
	for from := 0; from < len(rows); from += per {
		chunk := rows[from:min(from+per, len(rows))]
		args = args[:0]
		for _, r := range chunk {
			args = append(args, r...)
		}
		var err error
		if len(chunk) == per {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.exec(ctx, multiRowInsert(head, tail, ncols, len(chunk)), args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// bulkRecordChanges is recordChange for many items of one kind: one
// advisory lock on PostgreSQL (the order guarantee of recordChange), one
// multi-row insert.
func (s *Store) bulkRecordChanges(ctx context.Context, tx conn, wsID, kind string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if s.flavor.name == flavorPostgres.name {
		if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, changesLockID); err != nil {
			return err
		}
	}
	at := toMillis(s.now())
	rows := make([][]any, len(keys))
	for i, k := range keys {
		rows[i] = []any{wsID, kind, k, at}
	}
	return bulkInsert(ctx, tx, `INSERT INTO changes (workspace_id, kind, item_key, at)`, "", 4, rows)
}

// BulkCreateClients inserts clients in one transaction.
func (s *Store) BulkCreateClients(ctx context.Context, clients []storage.Client) error {
	rows := make([][]any, 0, len(clients))
	keys := make([]string, 0, len(clients))
	for _, c := range clients {
		if err := checkText("bulk create clients", c.WorkspaceID, c.ID, c.Name); err != nil {
			return err
		}
		data, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("sqlstore: encode client: %w", err)
		}
		rows = append(rows, []any{c.WorkspaceID, c.ID, c.Name, c.Enabled, toMillis(c.CreatedAt), toMillis(c.UpdatedAt), string(data)})
		keys = append(keys, c.ID)
	}
	return s.inTx(ctx, "bulk create clients", func(tx conn) error {
		return s.bulkWithChanges(ctx, tx, `INSERT INTO clients (`+clientColumns+`)`, 7, rows, storage.ChangeClient, keys)
	})
}

// BulkCreateUsers inserts users in one transaction.
func (s *Store) BulkCreateUsers(ctx context.Context, users []storage.User) error {
	rows := make([][]any, 0, len(users))
	keys := make([]string, 0, len(users))
	for _, u := range users {
		args, err := userArgs(u)
		if err != nil {
			return err
		}
		rows = append(rows, args)
		keys = append(keys, u.ID)
	}
	return s.inTx(ctx, "bulk create users", func(tx conn) error {
		return s.bulkWithChanges(ctx, tx, `INSERT INTO users (`+userColumns+`)`, 9, rows, storage.ChangeUser, keys)
	})
}

// bulkWithChanges inserts rows of one workspace and records a change for
// each key. Every row's first value is its workspace ID.
func (s *Store) bulkWithChanges(ctx context.Context, tx conn, head string, ncols int, rows [][]any, kind string, keys []string) error {
	if len(rows) == 0 {
		return nil
	}
	if err := bulkInsert(ctx, tx, head, "", ncols, rows); err != nil {
		return err
	}
	for ws, ks := range keysByWorkspace(rows, keys) {
		if err := s.bulkRecordChanges(ctx, tx, ws, kind, ks); err != nil {
			return err
		}
	}
	return nil
}

// keysByWorkspace groups keys by the workspace ID of their row.
func keysByWorkspace(rows [][]any, keys []string) map[string][]string {
	out := map[string][]string{}
	for i, r := range rows {
		ws := r[0].(string)
		out[ws] = append(out[ws], keys[i])
	}
	return out
}

// BulkCreateServices inserts services and their scopes in one transaction.
// Services are few (a thousand at most in the scale data set): one
// statement each.
func (s *Store) BulkCreateServices(ctx context.Context, services []storage.Service) error {
	return s.inTx(ctx, "bulk create services", func(tx conn) error {
		for _, svc := range services {
			if err := checkServiceText("bulk create services", svc); err != nil {
				return abort{err}
			}
			claims, err := encodeClaimMappings(svc.ClaimMappings)
			if err != nil {
				return abort{err}
			}
			types, err := encodeDetailTypes(svc.AuthorizationDetailTypes)
			if err != nil {
				return abort{err}
			}
			if _, err := tx.exec(ctx, `INSERT INTO services (`+serviceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				svc.WorkspaceID, svc.ID, svc.Name, svc.Description, svc.Identifier,
				toMillis(svc.CreatedAt), toMillis(svc.UpdatedAt), svc.AccessPolicyID, claims, types); err != nil {
				return err
			}
			if err := insertScopes(ctx, tx, svc); err != nil {
				return err
			}
			if err := s.recordChange(ctx, tx, svc.WorkspaceID, storage.ChangeService, svc.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// BulkGrant is one token family with its current refresh token's hash.
type BulkGrant struct {
	Family      storage.TokenFamily
	RefreshHash []byte
}

// BulkCreateGrants inserts token families, each with its refresh token
// (created at the family's CreatedAt), in one transaction.
func (s *Store) BulkCreateGrants(ctx context.Context, grants []BulkGrant) error {
	families := make([][]any, 0, len(grants))
	tokens := make([][]any, 0, len(grants))
	for _, g := range grants {
		args, err := familyArgs(g.Family)
		if err != nil {
			return err
		}
		families = append(families, args)
		if g.RefreshHash != nil {
			f := g.Family
			tokens = append(tokens, []any{f.WorkspaceID, g.RefreshHash, f.ID, f.Generation, toMillis(f.CreatedAt)})
		}
	}
	return s.inTx(ctx, "bulk create grants", func(tx conn) error {
		if err := bulkInsert(ctx, tx, `INSERT INTO token_families (`+familyColumns+`)`, "", 13, families); err != nil {
			return err
		}
		return bulkInsert(ctx, tx, `INSERT INTO refresh_tokens (workspace_id, hash, family_id, generation, created_at)`, "", 5, tokens)
	})
}

// BulkPutConsents inserts or replaces consents in one transaction. A
// (workspace, user, client) must not repeat within one call: PostgreSQL
// refuses a statement that updates one row twice.
func (s *Store) BulkPutConsents(ctx context.Context, consents []storage.Consent) error {
	rows := make([][]any, 0, len(consents))
	for _, c := range consents {
		rows = append(rows, []any{c.WorkspaceID, c.UserID, c.ClientID, strings.Join(c.Scopes, " "), toMillis(c.CreatedAt), toMillis(c.UpdatedAt)})
	}
	return s.inTx(ctx, "bulk put consents", func(tx conn) error {
		return bulkInsert(ctx, tx, `INSERT INTO consents (`+consentColumns+`)`,
			` ON CONFLICT (workspace_id, user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
			6, rows)
	})
}

// bulkLoadCacheKiB is the page cache of the seeding connection in bulk-load
// mode (SQLite's default is 2 MB): the indexes being appended to and the
// parent rows their foreign keys check stay in memory.
const bulkLoadCacheKiB = 512 * 1024

// BeginBulkLoad switches this store, on SQLite, to the bulk-load mode of
// `latchkey bench seed --bulk-load`: one connection, with
// `PRAGMA synchronous=OFF` (a commit no longer waits for fsync) and a
// 512 MB page cache. A crash of the machine during the load can lose or
// corrupt what was loaded, so it is for a fresh database that no server
// uses yet; other processes' connections keep their own synchronous=FULL.
// finish restores synchronous=FULL on the connection and checkpoints the
// write-ahead log into the database file, which that checkpoint fsyncs:
// once finish returns, everything loaded is durable. On PostgreSQL it
// changes nothing (its commits of thousands of rows are not fsync-bound).
func (s *Store) BeginBulkLoad(ctx context.Context) (finish func(context.Context) error, err error) {
	if s.flavor.name != flavorSQLite.name {
		return func(context.Context) error { return nil }, nil
	}
	// One connection, never recycled, so that the pragmas below hold for
	// every statement of the load; a replacement connection would open
	// with the DSN's synchronous=FULL, the safe side.
	s.db.SetMaxOpenConns(1)
	s.db.SetMaxIdleConns(1)
	s.db.SetConnMaxLifetime(0)
	s.db.SetConnMaxIdleTime(0)
	for _, p := range []string{`PRAGMA synchronous=OFF`, fmt.Sprintf(`PRAGMA cache_size=-%d`, bulkLoadCacheKiB)} {
		if _, err := s.db.ExecContext(ctx, p); err != nil {
			return nil, fmt.Errorf("sqlstore: bulk load: %s: %w", p, err)
		}
	}
	return s.finishBulkLoad, nil
}

func (s *Store) finishBulkLoad(ctx context.Context) error {
	for _, p := range []string{`PRAGMA synchronous=FULL`, `PRAGMA cache_size=-2000`} {
		if _, err := s.db.ExecContext(ctx, p); err != nil {
			return fmt.Errorf("sqlstore: finish bulk load: %s: %w", p, err)
		}
	}
	// TRUNCATE copies the whole log into the database, fsyncs it, and
	// empties the log; busy (another process reading) is reported, not
	// ignored, since the load is durable only once the copy is done.
	var busy, logPages, copied int
	if err := s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logPages, &copied); err != nil {
		return fmt.Errorf("sqlstore: finish bulk load: checkpoint: %w", err)
	}
	if busy != 0 {
		return fmt.Errorf("sqlstore: finish bulk load: checkpoint blocked by another connection (%d of %d pages copied)", copied, logPages)
	}
	return nil
}
