package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey/internal/storage"
)

// Indexed user columns; the rest is the JSON document userData. email_norm
// (lower-cased) and external_id are NULL when empty, so that the UNIQUE
// constraints only bite on real values.
const userColumns = `workspace_id, id, username, email_norm, external_id, active, created_at, updated_at, data`

type userData struct {
	Email       string            `json:"email,omitempty"`
	DisplayName string            `json:"display_name,omitempty"`
	ServiceUser bool              `json:"service_user,omitempty"`
	Profiles    []string          `json:"profiles,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
}

func nullIfEmpty(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

func userArgs(u storage.User) ([]any, error) {
	data, err := json.Marshal(userData{
		Email: u.Email, DisplayName: u.DisplayName, ServiceUser: u.ServiceUser,
		Profiles: u.Profiles, Attributes: u.Attributes,
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: encode user: %w", err)
	}
	if err := checkText("write user", u.WorkspaceID, u.ID, u.Username, u.Email, u.ExternalID); err != nil {
		return nil, err
	}
	return []any{u.WorkspaceID, u.ID, u.Username, nullIfEmpty(strings.ToLower(u.Email)), nullIfEmpty(u.ExternalID),
		u.Active, toMillis(u.CreatedAt), toMillis(u.UpdatedAt), string(data)}, nil
}

// CreateUser inserts u. A duplicate ID, username, email (case-insensitive)
// or external ID in the workspace is ErrAlreadyExists.
func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	args, err := userArgs(u)
	if err != nil {
		return err
	}
	return s.inTx(ctx, "create user", func(tx conn) error {
		if _, err := tx.exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, u.WorkspaceID, storage.ChangeUser, u.ID)
	})
}

// GetUser reads one user by ID.
func (s *Store) GetUser(ctx context.Context, workspaceID, id string) (storage.User, error) {
	return s.userWhere(ctx, "get user", `id = ?`, workspaceID, id)
}

// GetUserByUsername reads one user by its exact username.
func (s *Store) GetUserByUsername(ctx context.Context, workspaceID, username string) (storage.User, error) {
	return s.userWhere(ctx, "get user by username", `username = ?`, workspaceID, username)
}

// GetUserByEmail reads one user by email, compared case-insensitively.
func (s *Store) GetUserByEmail(ctx context.Context, workspaceID, email string) (storage.User, error) {
	if email == "" {
		return storage.User{}, storage.ErrNotFound
	}
	return s.userWhere(ctx, "get user by email", `email_norm = ?`, workspaceID, strings.ToLower(email))
}

// GetUserByExternalID reads one user by its external ID.
func (s *Store) GetUserByExternalID(ctx context.Context, workspaceID, externalID string) (storage.User, error) {
	if externalID == "" {
		return storage.User{}, storage.ErrNotFound
	}
	return s.userWhere(ctx, "get user by external id", `external_id = ?`, workspaceID, externalID)
}

// userWhere reads the user matching cond, one of this file's constant
// conditions on an indexed column: each becomes one prepared statement on
// SQLite (stmtcache.go), which holds only constant queries.
func (s *Store) userWhere(ctx context.Context, op, cond, workspaceID, value string) (storage.User, error) {
	if !findable(workspaceID, value) {
		return storage.User{}, storage.ErrNotFound
	}
	row := s.cachedRow(ctx, s.reader(), `SELECT `+userColumns+` FROM users WHERE workspace_id = ? AND `+cond, workspaceID, value)
	u, err := scanUser(row)
	return u, mapError(op, err)
}

func getUser(ctx context.Context, c conn, workspaceID, id, lock string) (storage.User, error) {
	if !findable(workspaceID, id) {
		return storage.User{}, storage.ErrNotFound
	}
	row := c.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE workspace_id = ? AND id = ?`+lock, workspaceID, id)
	return scanUser(row)
}

func scanUser(row interface{ Scan(...any) error }) (storage.User, error) {
	var u storage.User
	var emailNorm, externalID sql.NullString
	var created, updated int64
	var data string
	if err := row.Scan(&u.WorkspaceID, &u.ID, &u.Username, &emailNorm, &externalID, &u.Active, &created, &updated, &data); err != nil {
		return storage.User{}, err
	}
	var d userData
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return storage.User{}, fmt.Errorf("decode user: %w", err)
	}
	u.ExternalID = externalID.String
	u.Email, u.DisplayName, u.ServiceUser, u.Profiles, u.Attributes = d.Email, d.DisplayName, d.ServiceUser, d.Profiles, d.Attributes
	u.CreatedAt, u.UpdatedAt = fromMillis(created), fromMillis(updated)
	return u, nil
}

// userSearch is what a user search matches (search.go): a prefix of the
// ID or username ignoring ASCII case, or of the email
// (email_norm holds it lower-cased by strings.ToLower, so the query is
// folded the same way; its UNIQUE index serves the range).
var userSearch = []searchField{searchID, searchLower("username"), {expr: "email_norm", fold: strings.ToLower}}

// ListUsers returns one page of the workspace's users ordered by ID; the
// query matches a prefix of the ID, username or email (search.go).
func (s *Store) ListUsers(ctx context.Context, workspaceID string, opts storage.ListOptions) (storage.Page[storage.User], error) {
	userID := func(u storage.User) string { return u.ID }
	if opts.Query != "" {
		return searchPage(ctx, s, listTable{op: "list users", table: "users", cols: userColumns,
			where: "workspace_id = ?", args: []any{workspaceID}, fields: userSearch}, opts, scanUser, userID)
	}
	q, args, limit := listQuery(`SELECT `+userColumns+` FROM users WHERE workspace_id = ?`, []any{workspaceID}, opts)
	return listPage(ctx, s, "list users", q, args, limit, scanUser, userID)
}

// UpdateUser runs updater on the locked user and writes its result.
// Workspace and ID cannot change.
func (s *Store) UpdateUser(ctx context.Context, workspaceID, id string, updater func(storage.User) (storage.User, error)) (storage.User, error) {
	out, err := updateRow(ctx, s, rowUpdate[storage.User]{
		op: "update user",
		lock: func(tx conn) (storage.User, error) {
			return getUser(ctx, tx, workspaceID, id, s.flavor.forUpdate)
		},
		prepare: func(next *storage.User) ([]any, error) {
			next.WorkspaceID, next.ID = workspaceID, id
			args, err := userArgs(*next)
			if err != nil {
				return nil, err
			}
			// args: ws, id, username, email_norm, external_id, active, created, updated, data
			return append(args[2:], workspaceID, id), nil
		},
		write: execAndRecord[storage.User](ctx, s, `UPDATE users SET username = ?, email_norm = ?, external_id = ?, active = ?, created_at = ?, updated_at = ?, data = ? WHERE workspace_id = ? AND id = ?`,
			workspaceID, storage.ChangeUser, id),
	}, updater)
	if err != nil {
		return storage.User{}, err
	}
	out.CreatedAt, out.UpdatedAt = roundTime(out.CreatedAt), roundTime(out.UpdatedAt)
	return out, nil
}

// DeleteUser removes one user.
func (s *Store) DeleteUser(ctx context.Context, workspaceID, id string) error {
	return s.deleteRow(ctx, "delete user", `DELETE FROM users WHERE workspace_id = ? AND id = ?`,
		workspaceID, storage.ChangeUser, id, workspaceID, id)
}

// deleteRow runs one DELETE that must remove a row, and records a change.
func (s *Store) deleteRow(ctx context.Context, op, query, wsID, kind, key string, args ...any) error {
	if checkArgs(op, args) != nil {
		return storage.ErrNotFound
	}
	return s.inTx(ctx, op, func(tx conn) error {
		res, err := tx.exec(ctx, query, args...)
		if err != nil {
			return err
		}
		if err := expectOne(res); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, wsID, kind, key)
	})
}
