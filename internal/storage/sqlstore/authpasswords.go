package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// SetUserPassword stores or replaces a user's password hash. The foreign
// key makes a missing user ErrNotFound.
func (s *Store) SetUserPassword(ctx context.Context, p storage.UserPassword) error {
	_, err := s.reader().exec(ctx, `INSERT INTO user_passwords (workspace_id, user_id, hash, changed_at) VALUES (?, ?, ?, ?)
ON CONFLICT (workspace_id, user_id) DO UPDATE SET hash = excluded.hash, changed_at = excluded.changed_at`,
		p.WorkspaceID, p.UserID, p.Hash, toMillis(p.ChangedAt))
	return mapError("set user password", err)
}

// GetUserPassword reads a user's password hash.
func (s *Store) GetUserPassword(ctx context.Context, workspaceID, userID string) (storage.UserPassword, error) {
	if !findable(workspaceID, userID) {
		return storage.UserPassword{}, storage.ErrNotFound
	}
	p := storage.UserPassword{WorkspaceID: workspaceID, UserID: userID}
	var changed int64
	err := s.cachedRow(ctx, s.reader(), `SELECT hash, changed_at FROM user_passwords WHERE workspace_id = ? AND user_id = ?`,
		workspaceID, userID).Scan(&p.Hash, &changed)
	if err != nil {
		return storage.UserPassword{}, mapError("get user password", err)
	}
	p.ChangedAt = fromMillis(changed)
	return p, nil
}

// CreatePasswordToken stores a set-password token by hash and deletes the
// user's earlier ones in the same transaction: only the newest link works
// (SECURITY.md X11).
func (s *Store) CreatePasswordToken(ctx context.Context, t storage.PasswordToken) error {
	return s.inTx(ctx, "create password token", func(tx conn) error {
		if _, err := tx.exec(ctx, `DELETE FROM password_tokens WHERE workspace_id = ? AND user_id = ?`, t.WorkspaceID, t.UserID); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO password_tokens (workspace_id, hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			t.WorkspaceID, nonNil(t.Hash), t.UserID, toMillis(t.CreatedAt), toMillis(t.ExpiresAt))
		return err
	})
}

// ConsumePasswordToken deletes the token with one DELETE ... RETURNING:
// of concurrent calls only the one whose statement removed the row gets it.
func (s *Store) ConsumePasswordToken(ctx context.Context, workspaceID string, hash []byte, now time.Time) (storage.PasswordToken, error) {
	if !findable(workspaceID) {
		return storage.PasswordToken{}, storage.ErrNotFound
	}
	t := storage.PasswordToken{WorkspaceID: workspaceID}
	var created, expires int64
	err := s.reader().writeRow(ctx, func(row *sql.Row) error { return row.Scan(&t.Hash, &t.UserID, &created, &expires) },
		`DELETE FROM password_tokens WHERE workspace_id = ? AND hash = ? AND expires_at > ?
RETURNING hash, user_id, created_at, expires_at`, workspaceID, nonNil(hash), toMillis(now))
	if err != nil {
		return storage.PasswordToken{}, mapError("consume password token", err)
	}
	t.CreatedAt, t.ExpiresAt = fromMillis(created), fromMillis(expires)
	return t, nil
}

// browserSessionData is the JSON part of a browser session row.
type browserSessionData struct {
	AuthTime int64    `json:"auth_time"`
	AMR      []string `json:"amr,omitempty"`
	ACR      string   `json:"acr,omitempty"`
}

const browserSessionColumns = `workspace_id, id, id_hash, user_id, created_at, expires_at, data`

// CreateBrowserSession inserts a session; a missing user is ErrNotFound.
func (s *Store) CreateBrowserSession(ctx context.Context, bs storage.BrowserSession) error {
	data, err := json.Marshal(browserSessionData{AuthTime: toMillis(bs.AuthTime), AMR: bs.AMR, ACR: bs.ACR})
	if err != nil {
		return fmt.Errorf("sqlstore: encode session: %w", err)
	}
	_, err = s.reader().exec(ctx, `INSERT INTO browser_sessions (`+browserSessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		bs.WorkspaceID, bs.ID, nonNil(bs.IDHash), bs.UserID, toMillis(bs.CreatedAt), toMillis(bs.ExpiresAt), string(data))
	return mapError("create browser session", err)
}

func scanBrowserSession(row interface{ Scan(...any) error }) (storage.BrowserSession, error) {
	var bs storage.BrowserSession
	var created, expires int64
	var data string
	if err := row.Scan(&bs.WorkspaceID, &bs.ID, &bs.IDHash, &bs.UserID, &created, &expires, &data); err != nil {
		return storage.BrowserSession{}, err
	}
	var d browserSessionData
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return storage.BrowserSession{}, fmt.Errorf("decode session: %w", err)
	}
	bs.CreatedAt, bs.ExpiresAt = fromMillis(created), fromMillis(expires)
	bs.AuthTime, bs.AMR, bs.ACR = fromMillis(d.AuthTime), d.AMR, d.ACR
	return bs, nil
}

// GetBrowserSession reads a session by the hash of its cookie value.
func (s *Store) GetBrowserSession(ctx context.Context, workspaceID string, idHash []byte) (storage.BrowserSession, error) {
	if !findable(workspaceID) {
		return storage.BrowserSession{}, storage.ErrNotFound
	}
	row := s.cachedRow(ctx, s.reader(), `SELECT `+browserSessionColumns+` FROM browser_sessions WHERE workspace_id = ? AND id_hash = ?`,
		workspaceID, nonNil(idHash))
	bs, err := scanBrowserSession(row)
	return bs, mapError("get browser session", err)
}

// ListBrowserSessions lists a user's sessions, newest first.
func (s *Store) ListBrowserSessions(ctx context.Context, workspaceID, userID string) ([]storage.BrowserSession, error) {
	if !findable(workspaceID, userID) {
		return []storage.BrowserSession{}, nil
	}
	rows, err := s.reader().query(ctx, `SELECT `+browserSessionColumns+` FROM browser_sessions WHERE workspace_id = ? AND user_id = ?
ORDER BY created_at DESC, id`, workspaceID, userID)
	if err != nil {
		return nil, mapError("list browser sessions", err)
	}
	defer rows.Close()
	out := []storage.BrowserSession{}
	for rows.Next() {
		bs, err := scanBrowserSession(rows)
		if err != nil {
			return nil, mapError("list browser sessions", err)
		}
		out = append(out, bs)
	}
	return out, mapError("list browser sessions", rows.Err())
}

// DeleteBrowserSession removes one session by its public ID.
func (s *Store) DeleteBrowserSession(ctx context.Context, workspaceID, id string) error {
	if !findable(workspaceID, id) {
		return storage.ErrNotFound
	}
	// The back-channel logout messages of the session are queued in the
	// same transaction (logout_queue.go).
	n, err := s.deleteSessionsWithLogout(ctx, "delete browser session", workspaceID, `id = ?`, id)
	if err == nil && n == 0 {
		err = storage.ErrNotFound
	}
	return err
}

// DeleteUserBrowserSessions removes every session of a user.
func (s *Store) DeleteUserBrowserSessions(ctx context.Context, workspaceID, userID string) (int64, error) {
	if !findable(workspaceID, userID) {
		return 0, nil
	}
	return s.deleteSessionsWithLogout(ctx, "delete user browser sessions", workspaceID, `user_id = ?`, userID)
}
