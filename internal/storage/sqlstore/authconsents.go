package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// PutConsent inserts or replaces a user's consent for a client.
func (s *Store) PutConsent(ctx context.Context, c storage.Consent) error {
	_, err := s.reader().exec(ctx, `INSERT INTO consents (workspace_id, user_id, client_id, scopes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (workspace_id, user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		c.WorkspaceID, c.UserID, c.ClientID, strings.Join(c.Scopes, " "), toMillis(c.CreatedAt), toMillis(c.UpdatedAt))
	return mapError("put consent", err)
}

const consentColumns = `workspace_id, user_id, client_id, scopes, created_at, updated_at`

func scanConsent(row interface{ Scan(...any) error }) (storage.Consent, error) {
	var c storage.Consent
	var scopes string
	var created, updated int64
	if err := row.Scan(&c.WorkspaceID, &c.UserID, &c.ClientID, &scopes, &created, &updated); err != nil {
		return storage.Consent{}, err
	}
	c.Scopes = strings.Fields(scopes)
	c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
	return c, nil
}

// GetConsent reads one consent.
func (s *Store) GetConsent(ctx context.Context, workspaceID, userID, clientID string) (storage.Consent, error) {
	if !findable(workspaceID, userID, clientID) {
		return storage.Consent{}, storage.ErrNotFound
	}
	c, err := scanConsent(s.cachedRow(ctx, s.reader(), `SELECT `+consentColumns+` FROM consents WHERE workspace_id = ? AND user_id = ? AND client_id = ?`,
		workspaceID, userID, clientID))
	return c, mapError("get consent", err)
}

// ListConsents lists a user's consents ordered by client ID.
func (s *Store) ListConsents(ctx context.Context, workspaceID, userID string) ([]storage.Consent, error) {
	if !findable(workspaceID, userID) {
		return []storage.Consent{}, nil
	}
	rows, err := s.reader().query(ctx, `SELECT `+consentColumns+` FROM consents WHERE workspace_id = ? AND user_id = ? ORDER BY client_id`,
		workspaceID, userID)
	if err != nil {
		return nil, mapError("list consents", err)
	}
	defer rows.Close()
	out := []storage.Consent{}
	for rows.Next() {
		c, err := scanConsent(rows)
		if err != nil {
			return nil, mapError("list consents", err)
		}
		out = append(out, c)
	}
	return out, mapError("list consents", rows.Err())
}

// DeleteConsent removes one consent.
func (s *Store) DeleteConsent(ctx context.Context, workspaceID, userID, clientID string) error {
	if !findable(workspaceID, userID, clientID) {
		return storage.ErrNotFound
	}
	res, err := s.reader().exec(ctx, `DELETE FROM consents WHERE workspace_id = ? AND user_id = ? AND client_id = ?`, workspaceID, userID, clientID)
	if err == nil {
		err = expectOne(res)
	}
	return mapError("delete consent", err)
}

// UpdateLoginCounter creates or locks the row and runs the updater, all
// in one transaction: parallel attempts serialize on the
// row lock, so none can slip past a limit (SECURITY.md K7).
func (s *Store) UpdateLoginCounter(ctx context.Context, workspaceID, key string, updater func(storage.LoginCounter) (storage.LoginCounter, error)) (storage.LoginCounter, error) {
	if err := checkText("update login counter", workspaceID, key); err != nil {
		return storage.LoginCounter{}, err
	}
	out, err := updateRow(ctx, s, rowUpdate[storage.LoginCounter]{
		op: "update login counter",
		// One upsert creates the row if needed and locks it (PostgreSQL's
		// ON CONFLICT DO UPDATE takes the row lock), so a concurrent
		// DeleteLoginCounter cannot make it vanish between two statements.
		lock: func(tx conn) (storage.LoginCounter, error) {
			var c storage.LoginCounter
			var ws, last, next, exp int64
			err := tx.queryRow(ctx, `INSERT INTO login_counters (workspace_id, counter_key, attempts, window_start, last_at, next_allowed, expires_at)
VALUES (?, ?, 0, 0, 0, 0, 0) ON CONFLICT (workspace_id, counter_key) DO UPDATE SET attempts = login_counters.attempts
RETURNING attempts, window_start, last_at, next_allowed, expires_at`, workspaceID, key).Scan(&c.Attempts, &ws, &last, &next, &exp)
			if err != nil {
				return storage.LoginCounter{}, err
			}
			c.WindowStart, c.LastAt, c.NextAllowed, c.ExpiresAt = fromMillis(ws), fromMillis(last), fromMillis(next), fromMillis(exp)
			return c, nil
		},
		prepare: func(n *storage.LoginCounter) ([]any, error) {
			return []any{n.Attempts, toMillis(n.WindowStart), toMillis(n.LastAt), toMillis(n.NextAllowed), toMillis(n.ExpiresAt), workspaceID, key}, nil
		},
		write: execOnly[storage.LoginCounter](ctx, `UPDATE login_counters SET attempts = ?, window_start = ?, last_at = ?, next_allowed = ?, expires_at = ?
WHERE workspace_id = ? AND counter_key = ?`),
	}, updater)
	if err != nil {
		return storage.LoginCounter{}, err
	}
	out.WindowStart, out.LastAt, out.NextAllowed, out.ExpiresAt = roundTime(out.WindowStart), roundTime(out.LastAt), roundTime(out.NextAllowed), roundTime(out.ExpiresAt)
	return out, nil
}

// GetLoginCounter reads a counter without taking its row lock.
func (s *Store) GetLoginCounter(ctx context.Context, workspaceID, key string) (storage.LoginCounter, error) {
	if !findable(workspaceID, key) {
		return storage.LoginCounter{}, storage.ErrNotFound
	}
	var c storage.LoginCounter
	var ws, last, next, exp int64
	err := s.reader().queryRow(ctx, `SELECT attempts, window_start, last_at, next_allowed, expires_at FROM login_counters
WHERE workspace_id = ? AND counter_key = ?`, workspaceID, key).Scan(&c.Attempts, &ws, &last, &next, &exp)
	if err != nil {
		return storage.LoginCounter{}, mapError("get login counter", err)
	}
	c.WindowStart, c.LastAt, c.NextAllowed, c.ExpiresAt = fromMillis(ws), fromMillis(last), fromMillis(next), fromMillis(exp)
	return c, nil
}

// DeleteLoginCounter forgets a counter; a missing one is not an error.
func (s *Store) DeleteLoginCounter(ctx context.Context, workspaceID, key string) error {
	if !findable(workspaceID, key) {
		return nil
	}
	_, err := s.reader().exec(ctx, `DELETE FROM login_counters WHERE workspace_id = ? AND counter_key = ?`, workspaceID, key)
	return mapError("delete login counter", err)
}

// DeleteExpiredAuthFlow removes what can no longer be used at now. Codes
// are kept an hour past their expiry, so that a late replay is still
// recognised as reuse and revokes its tokens (G1). Dead families (revoked
// or expired) are kept for familyMarkRetention, so that their revocation
// mark outlives every access token issued from them.
func (s *Store) DeleteExpiredAuthFlow(ctx context.Context, now time.Time) (int64, error) {
	cutoff := toMillis(now)
	familyCutoff := toMillis(now.Add(-familyMarkRetention))
	stmts := []struct {
		table, cond string
		args        []any
	}{
		{"auth_requests", `expires_at < ?`, []any{cutoff}},
		{"auth_codes", `expires_at < ?`, []any{toMillis(now.Add(-time.Hour))}},
		{"device_codes", `expires_at < ?`, []any{toMillis(now.Add(-time.Hour))}},
		{"ciba_requests", `expires_at < ?`, []any{toMillis(now.Add(-time.Hour))}},
		{"browser_sessions", `expires_at < ?`, []any{cutoff}},
		{"password_tokens", `expires_at < ?`, []any{cutoff}},
		{"login_counters", `expires_at < ?`, []any{cutoff}},
		{"token_families", `(revoked_at <> 0 AND revoked_at < ?) OR (expires_at <> 0 AND expires_at < ?)
OR (idle_ttl_ms > 0 AND last_used_at + idle_ttl_ms < ?)`, []any{familyCutoff, familyCutoff, familyCutoff}},
	}
	var total int64
	for _, st := range stmts {
		n, err := s.deleteExpiredRows(ctx, "delete expired auth flow", st.table, st.cond, st.args...)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// familyMarkRetention keeps a dead family (its revocation mark) for longer
// than any access token issued from it can live (service.MaxAccessTokenTTL
// is 24 hours).
const familyMarkRetention = 25 * time.Hour
