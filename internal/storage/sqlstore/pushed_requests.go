package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// CreatePushedRequest stores a pushed authorization request (RFC 9126
// §2.2) by the hash of its request_uri.
func (s *Store) CreatePushedRequest(ctx context.Context, p storage.PushedRequest) error {
	if err := checkText("create pushed request", p.WorkspaceID, p.ClientID); err != nil {
		return err
	}
	if len(p.Hash) == 0 {
		return fmt.Errorf("sqlstore: create pushed request: empty hash")
	}
	params, err := json.Marshal(p.Params)
	if err != nil {
		return fmt.Errorf("sqlstore: encode pushed request: %w", err)
	}
	if err := checkText("create pushed request", string(params)); err != nil {
		return err
	}
	_, err = s.reader().exec(ctx, `INSERT INTO pushed_requests (workspace_id, hash, client_id, created_at, expires_at, params)
VALUES (?, ?, ?, ?, ?, ?)`,
		p.WorkspaceID, p.Hash, p.ClientID, toMillis(p.CreatedAt), toMillis(p.ExpiresAt), string(params))
	return mapError("create pushed request", err)
}

// consumePushedQuery is the single-use gate of a pushed request (RFC 9126
// §4): one DELETE ... RETURNING, never check-then-act, so of concurrent
// uses on any number of processes exactly one gets the row. The client
// and expiry are part of the condition, so another client's attempt, or
// a late one, changes nothing.
const consumePushedQuery = `DELETE FROM pushed_requests
WHERE workspace_id = ? AND hash = ? AND client_id = ? AND expires_at > ?
RETURNING workspace_id, hash, client_id, created_at, expires_at, params`

// ConsumePushedRequest removes and returns one pushed request.
func (s *Store) ConsumePushedRequest(ctx context.Context, workspaceID, clientID string, hash []byte, now time.Time) (storage.PushedRequest, error) {
	if !findable(workspaceID, clientID) || len(hash) == 0 {
		return storage.PushedRequest{}, storage.ErrNotFound
	}
	var p storage.PushedRequest
	err := s.reader().writeRow(ctx, func(row *sql.Row) error {
		var created, expires int64
		var params string
		if err := row.Scan(&p.WorkspaceID, &p.Hash, &p.ClientID, &created, &expires, &params); err != nil {
			return err
		}
		p.CreatedAt, p.ExpiresAt = fromMillis(created), fromMillis(expires)
		return json.Unmarshal([]byte(params), &p.Params)
	}, consumePushedQuery, workspaceID, hash, clientID, toMillis(now))
	if err != nil {
		return storage.PushedRequest{}, mapError("consume pushed request", err)
	}
	return p, nil
}
