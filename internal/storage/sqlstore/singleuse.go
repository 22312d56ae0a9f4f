package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// useJTIQuery records one JWT ID: a new key inserts; an existing key is
// overwritten only when its previous use has expired, and otherwise the
// statement changes no row, which is ErrAlreadyExists.
const useJTIQuery = `INSERT INTO jti_replay (workspace_id, namespace, issuer, jti, expires_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (workspace_id, namespace, issuer, jti)
DO UPDATE SET expires_at = excluded.expires_at WHERE jti_replay.expires_at < ?`

// UseJTI records a JWT ID as used (RFC 7523 §3 item 7; SECURITY.md B7,
// reliability invariant 4). Each key is written by one atomic
// INSERT ... ON CONFLICT statement, never check-then-act, so of many
// concurrent calls, on any number of processes, exactly one succeeds.
//
// Concurrent calls are group-committed (see batcher, useJTIBatch for
// SQLite and useJTIMultiRow for PostgreSQL): every token of the JWT bearer
// grant spends a jti, and one commit per token would bound the token rate
// by the disk (SQLite's fsync) or by the database's per-transaction cost.
func (s *Store) UseJTI(ctx context.Context, j storage.JTI) error {
	if err := checkText("use jti", j.WorkspaceID, j.Namespace, j.Issuer, j.JTI); err != nil {
		return err
	}
	if s.jtiBatch == nil {
		return s.useJTI(ctx, j)
	}
	err := s.jtiBatch.do(ctx, j)
	if err != nil && err == ctx.Err() {
		// Results of a flush are already mapped; only the caller's own
		// cancellation comes back bare.
		return mapError("use jti", err)
	}
	return err
}

// useJTI records one JWT ID with a single autocommitted statement.
func (s *Store) useJTI(ctx context.Context, j storage.JTI) error {
	res, err := s.execUseJTI(ctx, j)
	if err != nil {
		return mapError("use jti", err)
	}
	return jtiResult(res)
}

// execUseJTI runs useJTIQuery for j on the pool: through the prepared
// statement on SQLite, where parsing costs about as much as the insert
// (pgx caches its prepared statements itself).
func (s *Store) execUseJTI(ctx context.Context, j storage.JTI) (sql.Result, error) {
	args := []any{j.WorkspaceID, j.Namespace, j.Issuer, j.JTI, toMillis(j.ExpiresAt), toMillis(s.now())}
	if s.jtiStmt == nil {
		return s.reader().exec(ctx, useJTIQuery, args...)
	}
	stmt, err := s.jtiStmt.get(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.wl.lock(ctx); err != nil {
		return nil, err
	}
	defer s.wl.unlock()
	return stmt.ExecContext(ctx, args...)
}

// jtiResult turns the row count of useJTIQuery into the UseJTI result.
func jtiResult(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return mapError("use jti", err)
	}
	if n == 0 {
		return storage.ErrAlreadyExists
	}
	return nil
}

// batchJTIStatement gives the transaction its form of the prepared
// useJTIQuery: the store's pooled statement where there is one (already
// prepared on most pool connections), else one prepared for this batch.
// Either way the SQL is parsed at most once per batch.
func (s *Store) batchJTIStatement(ctx context.Context, tx conn, pooled *sql.Stmt) (*sql.Stmt, error) {
	if pooled != nil {
		return tx.stmt(ctx, pooled), nil
	}
	return tx.prepare(ctx, useJTIQuery)
}

// jtiItemError reports that the statement of one item of a batch failed
// (a missing workspace, for instance) rather than the transaction.
type jtiItemError struct {
	index int
	err   error
}

func (e jtiItemError) Error() string { return e.err.Error() }

// useJTIBatch is the flush of the UseJTI batcher. It writes js in order in
// one IMMEDIATE transaction, each with its own statement and result, so a
// key repeated within the batch is won by its first occurrence and the
// later ones see ErrAlreadyExists, exactly as if the calls had run one
// after another. The results count only if the COMMIT succeeds; otherwise
// the returned error goes to every caller of the batch.
//
// If one item's statement fails, the transaction is rolled back (on
// PostgreSQL it could not continue anyway) and the batch is replayed item
// by item, so the failure stays with that item's caller alone.
func (s *Store) useJTIBatch(ctx context.Context, js []storage.JTI) ([]error, error) {
	results := make([]error, len(js))
	if len(js) == 1 {
		// Nothing to share: one autocommitted statement costs the same
		// fsync and fewer steps than BEGIN, INSERT, COMMIT.
		results[0] = s.useJTI(ctx, js[0])
		return results, nil
	}
	// Prepared before the transaction: preparing on the pool needs a
	// connection, and the in-memory store has only the one the
	// transaction would hold.
	var pooled *sql.Stmt
	if s.jtiStmt != nil {
		var err error
		if pooled, err = s.jtiStmt.get(ctx); err != nil {
			return nil, mapError("use jti", err)
		}
	}
	err := s.inTx(ctx, "use jti", func(tx conn) error {
		now := toMillis(s.now())
		stmt, err := s.batchJTIStatement(ctx, tx, pooled)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, j := range js {
			res, err := stmt.ExecContext(ctx, j.WorkspaceID, j.Namespace, j.Issuer, j.JTI, toMillis(j.ExpiresAt), now)
			if err != nil {
				if isRetryable(err) {
					return err
				}
				return abort{jtiItemError{index: i, err: err}}
			}
			results[i] = jtiResult(res)
		}
		return nil
	})
	if _, ok := errors.AsType[jtiItemError](err); ok {
		for i, j := range js {
			results[i] = s.useJTI(ctx, j)
		}
		return results, nil
	}
	if err != nil {
		return nil, err
	}
	return results, nil
}

// jtiKey is the primary key of jti_replay.
type jtiKey struct{ workspace, namespace, issuer, jti string }

func keyOf(j storage.JTI) jtiKey { return jtiKey{j.WorkspaceID, j.Namespace, j.Issuer, j.JTI} }

// useJTIMultiRow is the PostgreSQL flush of the UseJTI batcher: the whole
// batch is one INSERT ... ON CONFLICT ... RETURNING, one round trip and one
// commit instead of one of each per key (on PostgreSQL a separate
// transaction per key costs the server more CPU than the statement). The
// keys it returns are the ones it wrote; a key it does not return was
// already used (the conflict's WHERE kept the old row), and a key repeated
// within the batch is won by its first occurrence, as if the calls had run
// one after another. PostgreSQL refuses one statement that would update a
// row twice, so repeats never reach it.
//
// If the statement fails for something else than a retryable conflict (a
// workspace deleted meanwhile fails its foreign key), the batch is replayed
// item by item so the failure stays with that item's caller.
func (s *Store) useJTIMultiRow(ctx context.Context, js []storage.JTI) ([]error, error) {
	results := make([]error, len(js))
	rows := make([]int, 0, len(js)) // indexes of first occurrences
	seen := make(map[jtiKey]bool, len(js))
	for i, j := range js {
		if seen[keyOf(j)] {
			results[i] = storage.ErrAlreadyExists
			continue
		}
		seen[keyOf(j)] = true
		rows = append(rows, i)
	}
	written, err := s.insertJTIs(ctx, js, rows)
	if err != nil {
		if isRetryable(err) {
			return nil, mapError("use jti", err)
		}
		for _, i := range rows {
			results[i] = s.useJTI(ctx, js[i])
		}
		return results, nil
	}
	for _, i := range rows {
		if !written[keyOf(js[i])] {
			results[i] = storage.ErrAlreadyExists
		}
	}
	return results, nil
}

// insertJTIs runs the multi-row form of useJTIQuery for js[rows] and
// returns the keys it inserted or renewed. Only a statement that completed
// (and so committed: it runs on its own) reports keys.
func (s *Store) insertJTIs(ctx context.Context, js []storage.JTI, rows []int) (map[jtiKey]bool, error) {
	var q strings.Builder
	q.WriteString(`INSERT INTO jti_replay (workspace_id, namespace, issuer, jti, expires_at) VALUES `)
	args := make([]any, 0, len(rows)*5+1)
	for n, i := range rows {
		if n > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?)")
		j := js[i]
		args = append(args, j.WorkspaceID, j.Namespace, j.Issuer, j.JTI, toMillis(j.ExpiresAt))
	}
	q.WriteString(` ON CONFLICT (workspace_id, namespace, issuer, jti)
DO UPDATE SET expires_at = excluded.expires_at WHERE jti_replay.expires_at < ?
RETURNING workspace_id, namespace, issuer, jti`)
	args = append(args, toMillis(s.now()))
	res, err := s.reader().query(ctx, q.String(), args...)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	written := make(map[jtiKey]bool, len(rows))
	for res.Next() {
		var k jtiKey
		if err := res.Scan(&k.workspace, &k.namespace, &k.issuer, &k.jti); err != nil {
			return nil, err
		}
		written[k] = true
	}
	if err := res.Err(); err != nil {
		return nil, err
	}
	// Close reports the statement's completion, the commit of autocommit.
	return written, res.Close()
}

// RevokeToken marks an access token as revoked; revoking again keeps the
// first mark.
func (s *Store) RevokeToken(ctx context.Context, r storage.RevokedToken) error {
	if err := checkText("revoke token", r.WorkspaceID, r.JTI, r.ClientID); err != nil {
		return err
	}
	_, err := s.reader().exec(ctx, `INSERT INTO revoked_tokens (workspace_id, jti, client_id, expires_at, revoked_at)
VALUES (?, ?, ?, ?, ?) ON CONFLICT (workspace_id, jti) DO NOTHING`,
		r.WorkspaceID, r.JTI, r.ClientID, toMillis(r.ExpiresAt), toMillis(r.RevokedAt))
	return mapError("revoke token", err)
}

// isRevokedQuery counts a token's revocation marks (0 or 1).
const isRevokedQuery = `SELECT COUNT(*) FROM revoked_tokens WHERE workspace_id = ? AND jti = ?`

// IsTokenRevoked reports whether the token's jti carries a revocation mark.
// Every introspection asks, and must ask the database (a revocation is
// seen by every process at once), so on PostgreSQL concurrent calls share
// queries (revokedreads.go).
func (s *Store) IsTokenRevoked(ctx context.Context, workspaceID, jti string) (bool, error) {
	if !findable(workspaceID, jti) {
		return false, nil
	}
	var revoked bool
	var err error
	if s.revokedReads != nil {
		revoked, err = s.revokedReads.check(ctx, workspaceID, jti)
	} else {
		revoked, err = s.isTokenRevoked(ctx, workspaceID, jti)
	}
	if err != nil {
		return false, mapError("is token revoked", err)
	}
	return revoked, nil
}

const iatColumns = `workspace_id, id, hash, description, expires_at, uses_left, created_at, policy`

// CreateInitialAccessToken stores t (its hash only). A duplicate ID or
// hash is ErrAlreadyExists.
func (s *Store) CreateInitialAccessToken(ctx context.Context, t storage.InitialAccessToken) error {
	policy, err := json.Marshal(t.Policy)
	if err != nil {
		return fmt.Errorf("sqlstore: encode registration policy: %w", err)
	}
	if err := checkText("create initial access token", t.WorkspaceID, t.ID, t.Description); err != nil {
		return err
	}
	_, err = s.reader().exec(ctx, `INSERT INTO initial_access_tokens (`+iatColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.WorkspaceID, t.ID, nonNil(t.Hash), t.Description, toMillis(t.ExpiresAt), t.UsesLeft, toMillis(t.CreatedAt), string(policy))
	return mapError("create initial access token", err)
}

func scanIAT(row interface{ Scan(...any) error }) (storage.InitialAccessToken, error) {
	var t storage.InitialAccessToken
	var expires, created int64
	var policy string
	if err := row.Scan(&t.WorkspaceID, &t.ID, &t.Hash, &t.Description, &expires, &t.UsesLeft, &created, &policy); err != nil {
		return storage.InitialAccessToken{}, err
	}
	if err := json.Unmarshal([]byte(policy), &t.Policy); err != nil {
		return storage.InitialAccessToken{}, fmt.Errorf("decode registration policy: %w", err)
	}
	t.ExpiresAt, t.CreatedAt = fromMillis(expires), fromMillis(created)
	return t, nil
}

// GetInitialAccessTokenByHash reads one token without spending a use.
func (s *Store) GetInitialAccessTokenByHash(ctx context.Context, workspaceID string, hash []byte) (storage.InitialAccessToken, error) {
	if !findable(workspaceID) {
		return storage.InitialAccessToken{}, storage.ErrNotFound
	}
	t, err := scanIAT(s.reader().queryRow(ctx, `SELECT `+iatColumns+` FROM initial_access_tokens WHERE workspace_id = ? AND hash = ?`,
		workspaceID, nonNil(hash)))
	return t, mapError("get initial access token", err)
}

// ListInitialAccessTokens returns the workspace's tokens ordered by ID.
func (s *Store) ListInitialAccessTokens(ctx context.Context, workspaceID string) ([]storage.InitialAccessToken, error) {
	if !findable(workspaceID) {
		return nil, nil
	}
	rows, err := s.reader().query(ctx, `SELECT `+iatColumns+` FROM initial_access_tokens WHERE workspace_id = ? ORDER BY id`, workspaceID)
	if err != nil {
		return nil, mapError("list initial access tokens", err)
	}
	defer rows.Close()
	var out []storage.InitialAccessToken
	for rows.Next() {
		t, err := scanIAT(rows)
		if err != nil {
			return nil, mapError("list initial access tokens", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("list initial access tokens", err)
	}
	return out, nil
}

// DeleteInitialAccessToken removes one token.
func (s *Store) DeleteInitialAccessToken(ctx context.Context, workspaceID, id string) error {
	if !findable(workspaceID, id) {
		return storage.ErrNotFound
	}
	res, err := s.reader().exec(ctx, `DELETE FROM initial_access_tokens WHERE workspace_id = ? AND id = ?`, workspaceID, id)
	if err == nil {
		err = expectOne(res)
	}
	return mapError("delete initial access token", err)
}

// spendIATQuery spends one use with a single conditional UPDATE ...
// RETURNING, so concurrent registrations can never spend more uses than
// the token has: the row lock (PostgreSQL) or the write lock (SQLite)
// makes the second spender see the first one's decrement.
const spendIATQuery = `UPDATE initial_access_tokens
SET uses_left = CASE WHEN uses_left > 0 THEN uses_left - 1 ELSE uses_left END
WHERE workspace_id = ? AND hash = ? AND (expires_at = 0 OR expires_at > ?) AND (uses_left > 0 OR uses_left = -1)
RETURNING `

// ConsumeInitialAccessToken spends one use (see spendIATQuery). It
// returns the token as it is after the spend (UsesLeft already
// decremented; -1 stays unlimited).
func (s *Store) ConsumeInitialAccessToken(ctx context.Context, workspaceID string, hash []byte, now time.Time) (storage.InitialAccessToken, error) {
	if !findable(workspaceID) {
		return storage.InitialAccessToken{}, storage.ErrNotFound
	}
	var t storage.InitialAccessToken
	err := s.reader().writeRow(ctx, func(row *sql.Row) (err error) { t, err = scanIAT(row); return err },
		spendIATQuery+iatColumns, workspaceID, nonNil(hash), toMillis(now))
	return t, mapError("consume initial access token", err)
}

// CreateClientWithInitialAccessToken spends one use of the token and
// inserts the client in one transaction (RFC 7591 §3; docs/security.md
// R3): a registration that fails for any reason, including a duplicate
// client ID, leaves the token unspent.
func (s *Store) CreateClientWithInitialAccessToken(ctx context.Context, c storage.Client, hash []byte, now time.Time) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("sqlstore: encode client: %w", err)
	}
	if err := checkText("register client", c.WorkspaceID, c.ID, c.Name); err != nil {
		return err
	}
	return s.inTx(ctx, "register client", func(tx conn) error {
		var id string
		err := tx.queryRow(ctx, spendIATQuery+`id`, c.WorkspaceID, nonNil(hash), toMillis(now)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return abort{storage.ErrNotFound}
		}
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.WorkspaceID, c.ID, c.Name, c.Enabled, toMillis(c.CreatedAt), toMillis(c.UpdatedAt), string(data)); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, c.WorkspaceID, storage.ChangeClient, c.ID)
	})
}

// DeleteExpired removes used JTIs, revocation marks, opaque access tokens,
// initial access tokens, and status-list bits and family ties of tokens that
// expired before now (an expired token is invalid whatever its bit says,
// draft-ietf-oauth-status-list §7), and change events older than an hour.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	cutoff := toMillis(now)
	stmts := []struct {
		table, cond string
		arg         int64
	}{
		{"jti_replay", `expires_at < ?`, cutoff},
		{"revoked_tokens", `expires_at < ?`, cutoff},
		{"opaque_tokens", `expires_at < ?`, cutoff},
		{"pushed_requests", `expires_at < ?`, cutoff},
		{"status_list_revoked", `expires_at < ?`, cutoff},
		{"status_list_families", `expires_at < ?`, cutoff},
		{"initial_access_tokens", `expires_at <> 0 AND expires_at < ?`, cutoff},
		{"changes", `at < ?`, toMillis(now.Add(-time.Hour))},
	}
	var total int64
	for _, st := range stmts {
		n, err := s.deleteExpiredRows(ctx, "delete expired", st.table, st.cond, st.arg)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
