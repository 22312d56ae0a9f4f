package sqlstore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

const adminUserColumns = `id, username, email, display_name, password_hash, role, workspaces, disabled, created_at, updated_at`

// CreateAdminUser inserts u; a duplicate ID or username is ErrAlreadyExists.
func (s *Store) CreateAdminUser(ctx context.Context, u storage.AdminUser) error {
	ws, err := encodeList(u.Workspaces)
	if err != nil {
		return err
	}
	if err := checkText("create admin user", u.ID, u.Username, u.Email, u.DisplayName, u.PasswordHash, u.Role, ws); err != nil {
		return err
	}
	_, err = s.reader().exec(ctx, `INSERT INTO admin_users (`+adminUserColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Username, u.Email, u.DisplayName, u.PasswordHash, u.Role, ws, u.Disabled,
		toMillis(u.CreatedAt), toMillis(u.UpdatedAt))
	return mapError("create admin user", err)
}

func encodeList(list []string) (string, error) {
	if list == nil {
		list = []string{}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return "", fmt.Errorf("sqlstore: encode list: %w", err)
	}
	return string(b), nil
}

func scanAdminUser(row interface{ Scan(...any) error }) (storage.AdminUser, error) {
	var u storage.AdminUser
	var ws string
	var created, updated int64
	if err := row.Scan(&u.ID, &u.Username, &u.Email, &u.DisplayName, &u.PasswordHash, &u.Role, &ws,
		&u.Disabled, &created, &updated); err != nil {
		return storage.AdminUser{}, err
	}
	if err := json.Unmarshal([]byte(ws), &u.Workspaces); err != nil {
		return storage.AdminUser{}, fmt.Errorf("decode admin user workspaces: %w", err)
	}
	if len(u.Workspaces) == 0 {
		u.Workspaces = nil
	}
	u.CreatedAt, u.UpdatedAt = fromMillis(created), fromMillis(updated)
	return u, nil
}

// GetAdminUser reads one admin user by ID.
func (s *Store) GetAdminUser(ctx context.Context, id string) (storage.AdminUser, error) {
	if !findable(id) {
		return storage.AdminUser{}, storage.ErrNotFound
	}
	u, err := scanAdminUser(s.reader().queryRow(ctx, `SELECT `+adminUserColumns+` FROM admin_users WHERE id = ?`, id))
	return u, mapError("get admin user", err)
}

// GetAdminUserByUsername reads one admin user by username.
func (s *Store) GetAdminUserByUsername(ctx context.Context, username string) (storage.AdminUser, error) {
	if !findable(username) {
		return storage.AdminUser{}, storage.ErrNotFound
	}
	u, err := scanAdminUser(s.reader().queryRow(ctx, `SELECT `+adminUserColumns+` FROM admin_users WHERE username = ?`, username))
	return u, mapError("get admin user", err)
}

// ListAdminUsers returns one page of admin users ordered by ID; Query
// matches ID or username.
func (s *Store) ListAdminUsers(ctx context.Context, opts storage.ListOptions) (storage.Page[storage.AdminUser], error) {
	var b strings.Builder
	args := []any{}
	b.WriteString(`SELECT ` + adminUserColumns + ` FROM admin_users WHERE 1 = 1`)
	if opts.After != "" {
		b.WriteString(" AND id > ?")
		args = append(args, opts.After)
	}
	if opts.Query != "" {
		// A prefix of the ID or username (search.go); admin users are few.
		cond, condArgs := anyField([]searchField{searchID, searchLower("username")}, opts.Query)
		b.WriteString(" AND " + cond)
		args = append(args, condArgs...)
	}
	limit := clampLimit(opts.Limit)
	b.WriteString(" ORDER BY id LIMIT ?")
	args = append(args, limit+1)
	return listPage(ctx, s, "list admin users", b.String(), args, limit, scanAdminUser, func(u storage.AdminUser) string { return u.ID })
}

// UpdateAdminUser runs updater on the locked row; the ID cannot change.
func (s *Store) UpdateAdminUser(ctx context.Context, id string, updater func(storage.AdminUser) (storage.AdminUser, error)) (storage.AdminUser, error) {
	if !findable(id) {
		return storage.AdminUser{}, storage.ErrNotFound
	}
	out, err := updateRow(ctx, s, rowUpdate[storage.AdminUser]{
		op: "update admin user",
		lock: func(tx conn) (storage.AdminUser, error) {
			return scanAdminUser(tx.queryRow(ctx, `SELECT `+adminUserColumns+` FROM admin_users WHERE id = ?`+s.flavor.forUpdate, id))
		},
		prepare: func(next *storage.AdminUser) ([]any, error) {
			next.ID = id
			ws, err := encodeList(next.Workspaces)
			if err != nil {
				return nil, err
			}
			if err := checkText("update admin user", next.Username, next.Email, next.DisplayName, next.PasswordHash, next.Role, ws); err != nil {
				return nil, err
			}
			return []any{next.Username, next.Email, next.DisplayName, next.PasswordHash, next.Role, ws, next.Disabled,
				toMillis(next.CreatedAt), toMillis(next.UpdatedAt), id}, nil
		},
		write: execOnly[storage.AdminUser](ctx, `UPDATE admin_users SET username = ?, email = ?, display_name = ?, password_hash = ?, role = ?,
workspaces = ?, disabled = ?, created_at = ?, updated_at = ? WHERE id = ?`),
	}, updater)
	if err != nil {
		return storage.AdminUser{}, mapError("update admin user", err)
	}
	out.CreatedAt, out.UpdatedAt = roundTime(out.CreatedAt), roundTime(out.UpdatedAt)
	return out, nil
}

// DeleteAdminUser removes the user and its one-time codes (codes have no
// foreign key since migration 5: API tokens hold codes too); sessions
// cascade.
func (s *Store) DeleteAdminUser(ctx context.Context, id string) error {
	if !findable(id) {
		return storage.ErrNotFound
	}
	err := s.inTx(ctx, "delete admin user", func(tx conn) error {
		if _, err := tx.exec(ctx, `DELETE FROM one_time_codes WHERE admin_user_id = ?`, id); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `DELETE FROM admin_users WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if err := expectOne(res); err != nil {
			return abort{err}
		}
		return nil
	})
	return mapError("delete admin user", err)
}

// CountAdminUsers counts the users with role, or all users for "".
func (s *Store) CountAdminUsers(ctx context.Context, role string) (int, error) {
	var n int
	if !findable(role) {
		return 0, nil
	}
	err := s.reader().queryRow(ctx, `SELECT COUNT(*) FROM admin_users WHERE ? = '' OR role = ?`, role, role).Scan(&n)
	return n, mapError("count admin users", err)
}

const sessionColumns = `id_hash, admin_user_id, created_at, last_seen_at, csrf_secret`

// CreateConsoleSession stores a session; a duplicate hash is ErrAlreadyExists
// and an unknown admin user ErrNotFound.
func (s *Store) CreateConsoleSession(ctx context.Context, cs storage.ConsoleSession) error {
	_, err := s.reader().exec(ctx, `INSERT INTO console_sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?)`,
		nonNil(cs.IDHash), cs.AdminUserID, toMillis(cs.CreatedAt), toMillis(cs.LastSeenAt), nonNil(cs.CSRFSecret))
	return mapError("create console session", err)
}

// GetConsoleSession reads a session by the hash of its ID.
func (s *Store) GetConsoleSession(ctx context.Context, idHash []byte) (storage.ConsoleSession, error) {
	var cs storage.ConsoleSession
	var created, seen int64
	err := s.reader().queryRow(ctx, `SELECT `+sessionColumns+` FROM console_sessions WHERE id_hash = ?`, nonNil(idHash)).
		Scan(&cs.IDHash, &cs.AdminUserID, &created, &seen, &cs.CSRFSecret)
	if err != nil {
		return storage.ConsoleSession{}, mapError("get console session", err)
	}
	cs.CreatedAt, cs.LastSeenAt = fromMillis(created), fromMillis(seen)
	return cs, nil
}

// TouchConsoleSession moves the idle clock of a session forward.
func (s *Store) TouchConsoleSession(ctx context.Context, idHash []byte, lastSeen time.Time) error {
	res, err := s.reader().exec(ctx, `UPDATE console_sessions SET last_seen_at = ? WHERE id_hash = ?`, toMillis(lastSeen), nonNil(idHash))
	if err == nil {
		err = expectOne(res)
	}
	return mapError("touch console session", err)
}

// DeleteConsoleSession signs one session out; a missing one is not an error.
func (s *Store) DeleteConsoleSession(ctx context.Context, idHash []byte) error {
	_, err := s.reader().exec(ctx, `DELETE FROM console_sessions WHERE id_hash = ?`, nonNil(idHash))
	return mapError("delete console session", err)
}

// DeleteAdminUserSessions signs a user out of every browser.
func (s *Store) DeleteAdminUserSessions(ctx context.Context, adminUserID string) error {
	if !findable(adminUserID) {
		return nil
	}
	_, err := s.reader().exec(ctx, `DELETE FROM console_sessions WHERE admin_user_id = ?`, adminUserID)
	return mapError("delete admin user sessions", err)
}

// PutOneTimeCode stores c, replacing the key's previous code (a new code
// also resets the tries).
func (s *Store) PutOneTimeCode(ctx context.Context, c storage.OneTimeCode) error {
	if err := checkText("put one-time code", c.AdminUserID, c.WorkspaceID, c.ClientID); err != nil {
		return err
	}
	_, err := s.reader().exec(ctx, `INSERT INTO one_time_codes (admin_user_id, workspace_id, client_id, code_hash, expires_at, tries_left, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (admin_user_id, workspace_id, client_id)
DO UPDATE SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, tries_left = excluded.tries_left, created_at = excluded.created_at`,
		c.AdminUserID, c.WorkspaceID, c.ClientID, nonNil(c.CodeHash), toMillis(c.ExpiresAt), c.TriesLeft, toMillis(c.CreatedAt))
	return mapError("put one-time code", err)
}

// ConsumeOneTimeCode spends a try with one conditional UPDATE ... RETURNING
// (so N parallel guesses spend N tries and never more than the code has),
// compares the stored hash in constant time and, on a match, deletes the
// code with a DELETE conditioned on the same hash: of two concurrent
// correct guesses only one wins.
func (s *Store) ConsumeOneTimeCode(ctx context.Context, key storage.OneTimeCodeKey, codeHash []byte, now time.Time) (int, error) {
	var stored []byte
	var left int
	if !findable(key.AdminUserID, key.WorkspaceID, key.ClientID) {
		return 0, storage.ErrNotFound
	}
	err := s.reader().writeRow(ctx, func(row *sql.Row) error { return row.Scan(&stored, &left) },
		`UPDATE one_time_codes SET tries_left = tries_left - 1
WHERE admin_user_id = ? AND workspace_id = ? AND client_id = ? AND expires_at > ? AND tries_left > 0
RETURNING code_hash, tries_left`, key.AdminUserID, key.WorkspaceID, key.ClientID, toMillis(now))
	if err != nil {
		return 0, mapError("consume one-time code", err)
	}
	if subtle.ConstantTimeCompare(stored, codeHash) != 1 {
		return left, storage.ErrWrongCode
	}
	res, err := s.reader().exec(ctx, `DELETE FROM one_time_codes WHERE admin_user_id = ? AND workspace_id = ? AND client_id = ? AND code_hash = ?`,
		key.AdminUserID, key.WorkspaceID, key.ClientID, nonNil(stored))
	if err == nil {
		err = expectOne(res)
	}
	return left, mapError("consume one-time code", err)
}

// DeleteExpiredConsoleData removes stale sessions and expired codes.
func (s *Store) DeleteExpiredConsoleData(ctx context.Context, idleBefore, createdBefore, now time.Time) (int64, error) {
	var total int64
	stmts := []struct {
		table, cond string
		args        []any
	}{
		{"console_sessions", `last_seen_at < ? OR created_at < ?`, []any{toMillis(idleBefore), toMillis(createdBefore)}},
		{"one_time_codes", `expires_at <= ?`, []any{toMillis(now)}},
	}
	for _, st := range stmts {
		n, err := s.deleteExpiredRows(ctx, "delete expired console data", st.table, st.cond, st.args...)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// dropWorkspaceFromAdminUsers takes ws out of the workspace lists of the
// console users, in DeleteWorkspace's transaction after the workspace row
// is gone, as dropWorkspaceFromAdminTokens does for admin tokens: a
// workspace re-created with the same ID is reachable by no console user
// scoped to the old one (docs/security.md O2, O5). The account and its
// other workspaces stay; a user left with none sees no workspace until a
// super admin gives it one. The rows are locked, so two deletions do not
// each write their own shorter list.
func (s *Store) dropWorkspaceFromAdminUsers(ctx context.Context, tx conn, ws string, now time.Time) error {
	users, err := scopedAdminUsers(ctx, tx, s.flavor.forUpdate)
	if err != nil {
		return err
	}
	for _, u := range users {
		if !slices.Contains(u.Workspaces, ws) {
			continue
		}
		list, err := encodeList(slices.DeleteFunc(slices.Clone(u.Workspaces), func(w string) bool { return w == ws }))
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE admin_users SET workspaces = ?, updated_at = ? WHERE id = ?`, list, toMillis(now), u.ID); err != nil {
			return err
		}
	}
	return nil
}

// scopedAdminUsers reads, and with lock locks, the console users that name
// any workspace (few: the people of a deployment).
func scopedAdminUsers(ctx context.Context, tx conn, lock string) ([]storage.AdminUser, error) {
	return connItems(ctx, tx, `SELECT `+adminUserColumns+` FROM admin_users WHERE workspaces <> '[]' ORDER BY id`+lock, nil, scanAdminUser)
}
