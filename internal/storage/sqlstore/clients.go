package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/latchkey/latchkey/internal/storage"
)

// Indexed columns; the rest of the Client is the JSON document in data
// (the struct's json tags exclude exactly these columns).
const clientColumns = `workspace_id, id, name, enabled, created_at, updated_at, data`

// CreateClient inserts c. A duplicate ID in the workspace is
// ErrAlreadyExists; a missing workspace is ErrNotFound.
func (s *Store) CreateClient(ctx context.Context, c storage.Client) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("sqlstore: encode client: %w", err)
	}
	if err := checkText("create client", c.WorkspaceID, c.ID, c.Name); err != nil {
		return err
	}
	return s.inTx(ctx, "create client", func(tx conn) error {
		if _, err := tx.exec(ctx, `INSERT INTO clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.WorkspaceID, c.ID, c.Name, c.Enabled, toMillis(c.CreatedAt), toMillis(c.UpdatedAt), string(data)); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, c.WorkspaceID, storage.ChangeClient, c.ID)
	})
}

// clientQuery reads one client by its key.
const clientQuery = `SELECT ` + clientColumns + ` FROM clients WHERE workspace_id = ? AND id = ?`

// GetClient reads one client. It is the read of every token request whose
// client has left the cache (a workspace with more clients than the cache
// holds), so on SQLite it runs as a prepared statement: parsing the query
// cost a third of the read (docs/benchmarks.md, "The uncached client
// read").
func (s *Store) GetClient(ctx context.Context, workspaceID, id string) (storage.Client, error) {
	if !findable(workspaceID, id) {
		return storage.Client{}, storage.ErrNotFound
	}
	c, err := scanClient(s.cachedRow(ctx, s.reader(), clientQuery, workspaceID, id))
	return c, mapError("get client", err)
}

// getClient reads one client on c with lock appended to the query (the
// row lock of an update).
func getClient(ctx context.Context, c conn, workspaceID, id, lock string) (storage.Client, error) {
	if !findable(workspaceID, id) {
		return storage.Client{}, storage.ErrNotFound
	}
	return scanClient(c.queryRow(ctx, clientQuery+lock, workspaceID, id))
}

func scanClient(row interface{ Scan(...any) error }) (storage.Client, error) {
	var c storage.Client
	var wsID, id, name, data string
	var enabled bool
	var created, updated int64
	if err := row.Scan(&wsID, &id, &name, &enabled, &created, &updated, &data); err != nil {
		return storage.Client{}, err
	}
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return storage.Client{}, fmt.Errorf("decode client: %w", err)
	}
	c.WorkspaceID, c.ID, c.Name, c.Enabled = wsID, id, name, enabled
	c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
	c.SecretRotatedAt = c.SecretRotatedAt.UTC()
	c.SecretExpiresAt = c.SecretExpiresAt.UTC()
	return c, nil
}

// ListClients returns one page of the workspace's clients ordered by ID;
// the query matches a prefix of the ID or name (search.go).
func (s *Store) ListClients(ctx context.Context, workspaceID string, opts storage.ListOptions) (storage.Page[storage.Client], error) {
	clientID := func(c storage.Client) string { return c.ID }
	if opts.Query != "" {
		return searchPage(ctx, s, listTable{op: "list clients", table: "clients", cols: clientColumns,
			where: "workspace_id = ?", args: []any{workspaceID}, fields: []searchField{searchID, searchName}}, opts, scanClient, clientID)
	}
	q, args, limit := listQuery(`SELECT `+clientColumns+` FROM clients WHERE workspace_id = ?`, []any{workspaceID}, opts)
	return listPage(ctx, s, "list clients", q, args, limit, scanClient, clientID)
}

// UpdateClient runs updater on the locked client and writes its result.
// Workspace and ID cannot change.
func (s *Store) UpdateClient(ctx context.Context, workspaceID, id string, updater func(storage.Client) (storage.Client, error)) (storage.Client, error) {
	out, err := updateRow(ctx, s, rowUpdate[storage.Client]{
		op: "update client",
		lock: func(tx conn) (storage.Client, error) {
			return getClient(ctx, tx, workspaceID, id, s.flavor.forUpdate)
		},
		prepare: func(next *storage.Client) ([]any, error) {
			next.WorkspaceID, next.ID = workspaceID, id
			if err := checkText("update client", next.Name); err != nil {
				return nil, err
			}
			data, err := json.Marshal(next)
			if err != nil {
				return nil, fmt.Errorf("sqlstore: encode client: %w", err)
			}
			return []any{next.Name, next.Enabled, toMillis(next.CreatedAt), toMillis(next.UpdatedAt), string(data), workspaceID, id}, nil
		},
		write: execAndRecord[storage.Client](ctx, s, `UPDATE clients SET name = ?, enabled = ?, created_at = ?, updated_at = ?, data = ? WHERE workspace_id = ? AND id = ?`,
			workspaceID, storage.ChangeClient, id),
	}, updater)
	if err != nil {
		return storage.Client{}, err
	}
	out.CreatedAt, out.UpdatedAt = roundTime(out.CreatedAt), roundTime(out.UpdatedAt)
	return out, nil
}

// DeleteClient removes one client.
func (s *Store) DeleteClient(ctx context.Context, workspaceID, id string) error {
	if !findable(workspaceID, id) {
		return storage.ErrNotFound
	}
	return s.inTx(ctx, "delete client", func(tx conn) error {
		res, err := tx.exec(ctx, `DELETE FROM clients WHERE workspace_id = ? AND id = ?`, workspaceID, id)
		if err != nil {
			return err
		}
		if err := expectOne(res); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, workspaceID, storage.ChangeClient, id)
	})
}
