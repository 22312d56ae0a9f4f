package sqlstore

import (
	"context"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// UseJTI records a JWT ID as used with one atomic statement (RFC 7523 §3
// item 7; SECURITY.md B7, reliability invariant 4). A new key inserts; an
// existing key is overwritten only when its previous use has expired, and
// otherwise the statement changes no row, which is ErrAlreadyExists. So of
// many concurrent calls, on any number of processes, exactly one succeeds.
func (s *Store) UseJTI(ctx context.Context, j storage.JTI) error {
	res, err := s.reader().exec(ctx, `INSERT INTO jti_replay (workspace_id, namespace, issuer, jti, expires_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (workspace_id, namespace, issuer, jti)
DO UPDATE SET expires_at = excluded.expires_at WHERE jti_replay.expires_at < ?`,
		j.WorkspaceID, j.Namespace, j.Issuer, j.JTI, toMillis(j.ExpiresAt), toMillis(s.now()))
	if err != nil {
		return mapError("use jti", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapError("use jti", err)
	}
	if n == 0 {
		return storage.ErrAlreadyExists
	}
	return nil
}

// RevokeToken marks an access token as revoked; revoking again keeps the
// first mark.
func (s *Store) RevokeToken(ctx context.Context, r storage.RevokedToken) error {
	_, err := s.reader().exec(ctx, `INSERT INTO revoked_tokens (workspace_id, jti, client_id, expires_at, revoked_at)
VALUES (?, ?, ?, ?, ?) ON CONFLICT (workspace_id, jti) DO NOTHING`,
		r.WorkspaceID, r.JTI, r.ClientID, toMillis(r.ExpiresAt), toMillis(r.RevokedAt))
	return mapError("revoke token", err)
}

// IsTokenRevoked reports whether the token's jti carries a revocation mark.
func (s *Store) IsTokenRevoked(ctx context.Context, workspaceID, jti string) (bool, error) {
	var n int
	err := s.reader().queryRow(ctx, `SELECT COUNT(*) FROM revoked_tokens WHERE workspace_id = ? AND jti = ?`, workspaceID, jti).Scan(&n)
	if err != nil {
		return false, mapError("is token revoked", err)
	}
	return n > 0, nil
}

const iatColumns = `workspace_id, id, hash, description, expires_at, uses_left, created_at`

// CreateInitialAccessToken stores t (its hash only). A duplicate ID or
// hash is ErrAlreadyExists.
func (s *Store) CreateInitialAccessToken(ctx context.Context, t storage.InitialAccessToken) error {
	_, err := s.reader().exec(ctx, `INSERT INTO initial_access_tokens (`+iatColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.WorkspaceID, t.ID, nonNil(t.Hash), t.Description, toMillis(t.ExpiresAt), t.UsesLeft, toMillis(t.CreatedAt))
	return mapError("create initial access token", err)
}

func scanIAT(row interface{ Scan(...any) error }) (storage.InitialAccessToken, error) {
	var t storage.InitialAccessToken
	var expires, created int64
	if err := row.Scan(&t.WorkspaceID, &t.ID, &t.Hash, &t.Description, &expires, &t.UsesLeft, &created); err != nil {
		return storage.InitialAccessToken{}, err
	}
	t.ExpiresAt, t.CreatedAt = fromMillis(expires), fromMillis(created)
	return t, nil
}

// ListInitialAccessTokens returns the workspace's tokens ordered by ID.
func (s *Store) ListInitialAccessTokens(ctx context.Context, workspaceID string) ([]storage.InitialAccessToken, error) {
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
	res, err := s.reader().exec(ctx, `DELETE FROM initial_access_tokens WHERE workspace_id = ? AND id = ?`, workspaceID, id)
	if err == nil {
		err = expectOne(res)
	}
	return mapError("delete initial access token", err)
}

// ConsumeInitialAccessToken spends one use with a single conditional
// UPDATE ... RETURNING, so concurrent registrations can never spend more
// uses than the token has. It returns the token as it is after the spend
// (UsesLeft already decremented; -1 stays unlimited).
func (s *Store) ConsumeInitialAccessToken(ctx context.Context, workspaceID string, hash []byte, now time.Time) (storage.InitialAccessToken, error) {
	row := s.reader().queryRow(ctx, `UPDATE initial_access_tokens
SET uses_left = CASE WHEN uses_left > 0 THEN uses_left - 1 ELSE uses_left END
WHERE workspace_id = ? AND hash = ? AND (expires_at = 0 OR expires_at > ?) AND (uses_left > 0 OR uses_left = -1)
RETURNING `+iatColumns, workspaceID, nonNil(hash), toMillis(now))
	t, err := scanIAT(row)
	return t, mapError("consume initial access token", err)
}

// DeleteExpired removes used JTIs, revocation marks and initial access
// tokens that expired before now, and change events older than an hour.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	cutoff := toMillis(now)
	stmts := []struct {
		q   string
		arg int64
	}{
		{`DELETE FROM jti_replay WHERE expires_at < ?`, cutoff},
		{`DELETE FROM revoked_tokens WHERE expires_at < ?`, cutoff},
		{`DELETE FROM initial_access_tokens WHERE expires_at <> 0 AND expires_at < ?`, cutoff},
		{`DELETE FROM changes WHERE at < ?`, toMillis(now.Add(-time.Hour))},
	}
	var total int64
	for _, st := range stmts {
		res, err := s.reader().exec(ctx, st.q, st.arg)
		if err != nil {
			return total, mapError("delete expired", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, mapError("delete expired", err)
		}
		total += n
	}
	return total, nil
}
