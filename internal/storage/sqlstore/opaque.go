package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/latchkey/latchkey/internal/storage"
)

// opaqueBatchMax bounds one group commit of CreateOpaqueToken, like
// jtiBatchMax for UseJTI.
const opaqueBatchMax = 128

// opaqueClaims is the JSON document of an opaque token's claims column.
type opaqueClaims struct {
	Subject  string         `json:"sub"`
	Scope    string         `json:"scope,omitempty"`
	JTI      string         `json:"jti"`
	Audience []string       `json:"aud"`
	FamilyID string         `json:"rtf,omitempty"`
	Extra    map[string]any `json:"extra,omitempty"`
	IssuedAt int64          `json:"iat"`
}

const insertOpaqueQuery = `INSERT INTO opaque_tokens (workspace_id, hash, client_id, expires_at, claims) VALUES (?, ?, ?, ?, ?)`

// CreateOpaqueToken stores t. Concurrent calls are group-committed (see
// batcher): every client_credentials token of an opaque-token client is
// one insert, and one commit per token would bound the token rate by the
// disk (SQLite's fsync) or the database's per-transaction cost. The call
// returns only once the commit that carries its row has finished.
func (s *Store) CreateOpaqueToken(ctx context.Context, t storage.OpaqueToken) error {
	if err := checkText("create opaque token", t.WorkspaceID, t.ClientID, t.Subject, t.Scope, t.JTI, t.FamilyID); err != nil {
		return err
	}
	if len(t.Hash) == 0 {
		return fmt.Errorf("sqlstore: create opaque token: empty hash")
	}
	if s.opaqueBatch == nil {
		return mapError("create opaque token", insertOpaque(ctx, s.reader(), t))
	}
	err := s.opaqueBatch.do(ctx, t)
	if err != nil && err == ctx.Err() {
		return mapError("create opaque token", err)
	}
	return err
}

// insertOpaque writes one row; its error is unmapped, so that inTx can
// tell a retryable failure.
func insertOpaque(ctx context.Context, c conn, t storage.OpaqueToken) error {
	claims, err := json.Marshal(opaqueClaims{
		Subject: t.Subject, Scope: t.Scope, JTI: t.JTI, Audience: t.Audience, FamilyID: t.FamilyID,
		Extra: t.Extra, IssuedAt: toMillis(t.IssuedAt),
	})
	if err != nil {
		return fmt.Errorf("sqlstore: encode opaque token claims: %w", err)
	}
	_, err = c.exec(ctx, insertOpaqueQuery, t.WorkspaceID, t.Hash, t.ClientID, toMillis(t.ExpiresAt), string(claims))
	return err
}

// createOpaqueBatch is the flush of the CreateOpaqueToken batcher: all
// rows in one transaction. When that transaction fails for a reason a
// retry would not cure (one row's workspace deleted meanwhile, a duplicate
// hash), the rows are written one by one so that each caller gets its own
// answer.
func (s *Store) createOpaqueBatch(ctx context.Context, ts []storage.OpaqueToken) ([]error, error) {
	err := s.inTx(ctx, "create opaque token", func(tx conn) error {
		for _, t := range ts {
			if err := insertOpaque(ctx, tx, t); err != nil {
				return err
			}
		}
		return nil
	})
	results := make([]error, len(ts))
	if err == nil {
		return results, nil
	}
	if errors.Is(err, storage.ErrUnavailable) || len(ts) == 1 {
		return nil, err
	}
	for i, t := range ts {
		results[i] = s.inTx(ctx, "create opaque token", func(tx conn) error { return insertOpaque(ctx, tx, t) })
	}
	return results, nil
}

// GetOpaqueToken reads one token by the hash of its value.
func (s *Store) GetOpaqueToken(ctx context.Context, workspaceID string, hash []byte) (storage.OpaqueToken, error) {
	if !findable(workspaceID) || len(hash) == 0 {
		return storage.OpaqueToken{}, storage.ErrNotFound
	}
	t := storage.OpaqueToken{WorkspaceID: workspaceID}
	var expires int64
	var raw string
	err := s.cachedRow(ctx, s.reader(), `SELECT hash, client_id, expires_at, claims FROM opaque_tokens WHERE workspace_id = ? AND hash = ?`,
		workspaceID, hash).Scan(&t.Hash, &t.ClientID, &expires, &raw)
	if err != nil {
		return storage.OpaqueToken{}, mapError("get opaque token", err)
	}
	var c opaqueClaims
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return storage.OpaqueToken{}, fmt.Errorf("sqlstore: decode opaque token claims: %w", err)
	}
	t.Subject, t.Scope, t.JTI, t.Audience, t.FamilyID, t.Extra = c.Subject, c.Scope, c.JTI, c.Audience, c.FamilyID, c.Extra
	t.IssuedAt, t.ExpiresAt = fromMillis(c.IssuedAt), fromMillis(expires)
	return t, nil
}

// DeleteOpaqueToken removes one token; a missing token is no error.
func (s *Store) DeleteOpaqueToken(ctx context.Context, workspaceID string, hash []byte) error {
	if !findable(workspaceID) || len(hash) == 0 {
		return nil
	}
	_, err := s.reader().exec(ctx, `DELETE FROM opaque_tokens WHERE workspace_id = ? AND hash = ?`, workspaceID, hash)
	return mapError("delete opaque token", err)
}
