package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// familyData is the JSON part of a token family row.
type familyData struct {
	SessionID string          `json:"session_id,omitempty"`
	Scopes    []string        `json:"scopes,omitempty"`
	AuthTime  int64           `json:"auth_time"`
	AMR       []string        `json:"amr,omitempty"`
	ACR       string          `json:"acr,omitempty"`
	Claims    json.RawMessage `json:"claims,omitempty"`
	Refresh   bool            `json:"refresh,omitempty"`
	GrantType string          `json:"grant_type,omitempty"`
	DPoPJKT   string          `json:"dpop_jkt,omitempty"`
	// CertThumbprint: storage.TokenFamily.CertThumbprint (RFC 8705 §4).
	CertThumbprint string `json:"x5t_s256,omitempty"`
	// ParentFamilyID: storage.TokenFamily.ParentFamilyID (token exchange).
	ParentFamilyID string `json:"parent_family_id,omitempty"`
	// AuthorizationDetails: RFC 9396 §2 (authzdetails.go).
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
}

const familyColumns = `workspace_id, id, client_id, user_id, generation, created_at, rotated_at, last_used_at, expires_at, idle_ttl_ms, revoked_at, successor_sealed, data`

const (
	insertFamilyQuery  = `INSERT INTO token_families (` + familyColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertRefreshQuery = `INSERT INTO refresh_tokens (workspace_id, hash, family_id, generation, created_at) VALUES (?, ?, ?, ?, ?)`
	tokenGenQuery      = `SELECT family_id, generation FROM refresh_tokens WHERE workspace_id = ? AND hash = ?`
)

func insertFamily(ctx context.Context, exec execFn, f storage.TokenFamily) error {
	args, err := familyArgs(f)
	if err != nil {
		return abort{err}
	}
	_, err = exec(ctx, insertFamilyQuery, args...)
	return err
}

// familyArgs are the familyColumns values of f (also the rows of
// BulkCreateGrants, seed.go).
func familyArgs(f storage.TokenFamily) ([]any, error) {
	data, err := json.Marshal(familyData{
		SessionID: f.SessionID, Scopes: f.Scopes, AuthTime: toMillis(f.AuthTime), AMR: f.AMR, ACR: f.ACR,
		Claims: f.Claims, Refresh: f.Refresh, GrantType: f.GrantType, DPoPJKT: f.DPoPJKT,
		ParentFamilyID: f.ParentFamilyID, AuthorizationDetails: f.AuthorizationDetails, CertThumbprint: f.CertThumbprint,
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: encode token family: %w", err)
	}
	return []any{f.WorkspaceID, f.ID, f.ClientID, f.UserID, f.Generation, toMillis(f.CreatedAt), toMillis(f.RotatedAt),
		toMillis(f.LastUsedAt), toMillis(f.ExpiresAt), f.IdleTTL.Milliseconds(), toMillis(f.RevokedAt),
		f.SuccessorSealed, string(data)}, nil
}

// insertGrant records a family and, when refreshHash is not nil, its
// first refresh token (created at now).
func insertGrant(ctx context.Context, tx conn, f storage.TokenFamily, refreshHash []byte, now time.Time) error {
	return insertGrantWith(ctx, tx.exec, f, refreshHash, now)
}

// insertGrantWith is insertGrant through exec (the statement cache of a
// group commit, stmtcache.go).
func insertGrantWith(ctx context.Context, exec execFn, f storage.TokenFamily, refreshHash []byte, now time.Time) error {
	if err := insertFamily(ctx, exec, f); err != nil {
		return err
	}
	if refreshHash == nil {
		return nil
	}
	return insertRefreshToken(ctx, exec, f.WorkspaceID, refreshHash, f.ID, f.Generation, now)
}

func insertRefreshToken(ctx context.Context, exec execFn, wsID string, hash []byte, familyID string, gen int, now time.Time) error {
	_, err := exec(ctx, insertRefreshQuery,
		wsID, nonNil(hash), familyID, gen, toMillis(now))
	return err
}

// familyRow receives the familyColumns of one row.
type familyRow struct {
	f                                                  storage.TokenFamily
	created, rotated, lastUsed, expires, idle, revoked int64
	data                                               string
}

func (r *familyRow) dest(extra ...any) []any {
	return append([]any{&r.f.WorkspaceID, &r.f.ID, &r.f.ClientID, &r.f.UserID, &r.f.Generation, &r.created, &r.rotated,
		&r.lastUsed, &r.expires, &r.idle, &r.revoked, &r.f.SuccessorSealed, &r.data}, extra...)
}

func (r *familyRow) family() (storage.TokenFamily, error) {
	f := r.f
	var d familyData
	if err := json.Unmarshal([]byte(r.data), &d); err != nil {
		return storage.TokenFamily{}, fmt.Errorf("decode token family: %w", err)
	}
	f.CreatedAt, f.RotatedAt, f.LastUsedAt = fromMillis(r.created), fromMillis(r.rotated), fromMillis(r.lastUsed)
	f.ExpiresAt, f.IdleTTL, f.RevokedAt = fromMillis(r.expires), time.Duration(r.idle)*time.Millisecond, fromMillis(r.revoked)
	f.SessionID, f.Scopes, f.AuthTime, f.AMR, f.ACR = d.SessionID, d.Scopes, fromMillis(d.AuthTime), d.AMR, d.ACR
	f.Claims, f.Refresh, f.GrantType, f.DPoPJKT = d.Claims, d.Refresh, d.GrantType, d.DPoPJKT
	f.ParentFamilyID, f.AuthorizationDetails = d.ParentFamilyID, d.AuthorizationDetails
	f.CertThumbprint = d.CertThumbprint
	return f, nil
}

func scanFamily(row interface{ Scan(...any) error }) (storage.TokenFamily, error) {
	var r familyRow
	if err := row.Scan(r.dest()...); err != nil {
		return storage.TokenFamily{}, err
	}
	return r.family()
}

func getFamily(ctx context.Context, c conn, wsID, id, lock string) (storage.TokenFamily, error) {
	return scanFamily(c.queryRow(ctx, `SELECT `+familyColumns+` FROM token_families WHERE workspace_id = ? AND id = ?`+lock, wsID, id))
}

// CreateTokenFamily records a family issued without an authorization code
// together with its first refresh token, in one transaction: a failure of
// either insert (duplicate family ID or hash, unknown client or user)
// leaves nothing behind.
func (s *Store) CreateTokenFamily(ctx context.Context, f storage.TokenFamily, refreshHash []byte) error {
	return s.inTx(ctx, "create token family", func(tx conn) error {
		return insertGrant(ctx, tx, f, refreshHash, f.CreatedAt)
	})
}

// GetTokenFamily reads one family.
func (s *Store) GetTokenFamily(ctx context.Context, workspaceID, id string) (storage.TokenFamily, error) {
	if !findable(workspaceID, id) {
		return storage.TokenFamily{}, storage.ErrNotFound
	}
	f, err := getFamily(ctx, s.reader(), workspaceID, id, "")
	return f, mapError("get token family", err)
}

// RotateRefreshToken implements storage.RefreshRotation in one
// transaction: the generation advances with a conditional UPDATE on the
// presented token's generation (rotateCurrent), so exactly one of
// concurrent redemptions of one token wins (reliability invariant 3); the
// other outcomes are told apart with the family row locked (FOR UPDATE;
// SQLite's IMMEDIATE transaction holds the write lock).
// Reuse revokes the family in the same transaction before the error is
// returned. Concurrent rotations share one transaction (rotateBatch,
// grantbatch.go), each rotation exactly as it would be alone.
func (s *Store) RotateRefreshToken(ctx context.Context, r storage.RefreshRotation) (storage.RotationResult, error) {
	if s.rotateBatch != nil {
		return s.rotateBatched(ctx, r)
	}
	return s.rotateAlone(ctx, r)
}

// rotateAlone is one rotation in a transaction of its own.
func (s *Store) rotateAlone(ctx context.Context, r storage.RefreshRotation) (storage.RotationResult, error) {
	var out storage.RotationResult
	reused := false
	s.warm(ctx, rotationQueries...)
	err := s.inTx(ctx, "rotate refresh token", func(tx conn) error {
		var err error
		out, reused, err = s.rotateInTx(ctx, tx, r)
		return err
	})
	if err != nil {
		return storage.RotationResult{}, err
	}
	if reused {
		return storage.RotationResult{}, storage.ErrRefreshReused
	}
	return out, nil
}

// rotateInTx redeems r within tx. reused reports a replayed token whose
// family it has revoked (a write to commit, not to roll back); the
// outcomes that write nothing come back as abort errors.
//
// The common case (the token is its family's current generation and the
// family is live) is one conditional UPDATE ... RETURNING plus the insert
// of the new token (rotateCurrent). Only when that UPDATE matches no row
// does the rotation read the token and its family to tell unknown, dead,
// grace and reuse apart, under the family's row lock as before.
func (s *Store) rotateInTx(ctx context.Context, tx conn, r storage.RefreshRotation) (out storage.RotationResult, reused bool, err error) {
	switch out, err = s.rotateCurrent(ctx, tx, r); {
	case err == nil:
		return out, false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return out, false, err
	}
	var familyID string
	var gen int
	err = s.scanCached(ctx, tx, tokenGenQuery, []any{r.WorkspaceID, nonNil(r.Hash)}, &familyID, &gen)
	if err != nil {
		return out, false, err
	}
	f, err := getFamily(ctx, tx, r.WorkspaceID, familyID, s.flavor.forUpdate)
	if err != nil {
		return out, false, err
	}
	if !f.Live(r.Now) {
		return out, false, abort{storage.ErrNotFound}
	}
	switch {
	case gen == f.Generation:
		out, err = s.advance(ctx, tx, f, r)
		return out, false, err
	case gen == f.Generation-1 && r.Grace > 0 && r.Now.Before(f.RotatedAt.Add(r.Grace)) && f.SuccessorSealed != nil:
		return storage.RotationResult{Family: f, Outcome: storage.RotationGrace}, false, nil
	}
	_, err = tx.exec(ctx, `UPDATE token_families SET revoked_at = ?, successor_sealed = NULL WHERE workspace_id = ? AND id = ?`,
		toMillis(r.Now), r.WorkspaceID, f.ID)
	return out, err == nil, err
}

// currentLive selects the family of the presented token when the token is
// its current generation and the family is live at now: the SQL form of
// storage.TokenFamily.Live (times are whole milliseconds, so
// "now < t" is "t > toMillis(now)"). Its arguments are workspace, hash,
// workspace, hash, now, now.
const currentLive = `WHERE workspace_id = ? AND id = (SELECT family_id FROM refresh_tokens WHERE workspace_id = ? AND hash = ?)
AND generation = (SELECT generation FROM refresh_tokens WHERE workspace_id = ? AND hash = ?)
AND revoked_at = 0 AND (expires_at = 0 OR expires_at > ?) AND (idle_ttl_ms <= 0 OR last_used_at + idle_ttl_ms > ?)
RETURNING ` + familyColumns

// rotateCurrentQuery advances the generation (a rotation);
// touchCurrentQuery only moves the idle clock (a client without
// rotation). Each is the single-use gate itself: of concurrent
// redemptions of one token, in one process or many, exactly one UPDATE
// matches the generation it names (reliability invariant 3).
const (
	rotateCurrentQuery = `UPDATE token_families SET generation = generation + 1, rotated_at = ?, last_used_at = ?, successor_sealed = ?
` + currentLive
	touchCurrentQuery = `UPDATE token_families SET last_used_at = ?
` + currentLive
)

// rotateCurrent is the common rotation in two statements instead of
// four (the profile in docs/benchmarks.md): sql.ErrNoRows when the token
// is not its live family's current generation, which writes nothing.
func (s *Store) rotateCurrent(ctx context.Context, tx conn, r storage.RefreshRotation) (storage.RotationResult, error) {
	now := toMillis(r.Now)
	where := []any{r.WorkspaceID, r.WorkspaceID, nonNil(r.Hash), r.WorkspaceID, nonNil(r.Hash), now, now}
	query, args := touchCurrentQuery, append([]any{now}, where...)
	if r.NewHash != nil {
		query, args = rotateCurrentQuery, append([]any{now, now, r.SuccessorSealed}, where...)
	}
	var row familyRow
	if err := s.scanCached(ctx, tx, query, args, row.dest()...); err != nil {
		return storage.RotationResult{}, err
	}
	f, err := row.family()
	if err != nil {
		return storage.RotationResult{}, err
	}
	if r.NewHash != nil {
		if err := insertRefreshToken(ctx, s.txExec(tx), f.WorkspaceID, r.NewHash, f.ID, f.Generation, r.Now); err != nil {
			return storage.RotationResult{}, err
		}
	}
	return storage.RotationResult{Family: f, Outcome: storage.RotationRotated}, nil
}

// advance redeems the current generation: rotation when NewHash is set,
// otherwise only the idle clock moves.
func (s *Store) advance(ctx context.Context, tx conn, f storage.TokenFamily, r storage.RefreshRotation) (storage.RotationResult, error) {
	now := toMillis(r.Now)
	if r.NewHash == nil {
		_, err := tx.exec(ctx, `UPDATE token_families SET last_used_at = ? WHERE workspace_id = ? AND id = ?`, now, f.WorkspaceID, f.ID)
		f.LastUsedAt = fromMillis(now)
		return storage.RotationResult{Family: f, Outcome: storage.RotationRotated}, err
	}
	res, err := tx.exec(ctx, `UPDATE token_families SET generation = generation + 1, rotated_at = ?, last_used_at = ?, successor_sealed = ?
WHERE workspace_id = ? AND id = ? AND generation = ?`, now, now, r.SuccessorSealed, f.WorkspaceID, f.ID, f.Generation)
	if err != nil {
		return storage.RotationResult{}, err
	}
	if err := expectOne(res); err != nil {
		return storage.RotationResult{}, abort{storage.ErrRefreshReused}
	}
	f.Generation++
	f.RotatedAt, f.LastUsedAt, f.SuccessorSealed = fromMillis(now), fromMillis(now), r.SuccessorSealed
	if err := insertRefreshToken(ctx, tx.exec, f.WorkspaceID, r.NewHash, f.ID, f.Generation, r.Now); err != nil {
		return storage.RotationResult{}, err
	}
	return storage.RotationResult{Family: f, Outcome: storage.RotationRotated}, nil
}

// RevokeTokenFamily marks one family revoked; the first mark is kept.
func (s *Store) RevokeTokenFamily(ctx context.Context, workspaceID, id string, now time.Time) error {
	if !findable(workspaceID, id) {
		return storage.ErrNotFound
	}
	return s.inTx(ctx, "revoke token family", func(tx conn) error {
		var revoked int64
		err := tx.queryRow(ctx, `SELECT revoked_at FROM token_families WHERE workspace_id = ? AND id = ?`+s.flavor.forUpdate,
			workspaceID, id).Scan(&revoked)
		if err != nil || revoked != 0 {
			return err
		}
		_, err = tx.exec(ctx, `UPDATE token_families SET revoked_at = ?, successor_sealed = NULL WHERE workspace_id = ? AND id = ?`,
			toMillis(now), workspaceID, id)
		return err
	})
}

// RevokeTokenFamilies revokes a user's live families (of one client when
// clientID is set).
func (s *Store) RevokeTokenFamilies(ctx context.Context, workspaceID, userID, clientID string, now time.Time) (int64, error) {
	if !findable(workspaceID, userID, clientID) {
		return 0, nil
	}
	q := `UPDATE token_families SET revoked_at = ?, successor_sealed = NULL WHERE workspace_id = ? AND user_id = ? AND revoked_at = 0`
	args := []any{toMillis(now), workspaceID, userID}
	if clientID != "" {
		q += ` AND client_id = ?`
		args = append(args, clientID)
	}
	res, err := s.reader().exec(ctx, q, args...)
	if err != nil {
		return 0, mapError("revoke token families", err)
	}
	n, err := res.RowsAffected()
	return n, mapError("revoke token families", err)
}

// refreshTokenQuery reads a refresh token's family and generation in one
// query (two round trips before).
const refreshTokenQuery = `SELECT f.workspace_id, f.id, f.client_id, f.user_id, f.generation, f.created_at, f.rotated_at,
f.last_used_at, f.expires_at, f.idle_ttl_ms, f.revoked_at, f.successor_sealed, f.data, r.generation
FROM refresh_tokens r JOIN token_families f ON f.workspace_id = r.workspace_id AND f.id = r.family_id
WHERE r.workspace_id = ? AND r.hash = ?`

// GetRefreshToken reads the family of a refresh token and its generation.
func (s *Store) GetRefreshToken(ctx context.Context, workspaceID string, hash []byte) (storage.TokenFamily, int, error) {
	if !findable(workspaceID) {
		return storage.TokenFamily{}, 0, storage.ErrNotFound
	}
	var row familyRow
	var gen int
	if err := s.scanCached(ctx, s.reader(), refreshTokenQuery, []any{workspaceID, nonNil(hash)}, row.dest(&gen)...); err != nil {
		return storage.TokenFamily{}, 0, mapError("get refresh token", err)
	}
	f, err := row.family()
	if err != nil {
		return storage.TokenFamily{}, 0, mapError("get refresh token", err)
	}
	return f, gen, nil
}

// PairwiseSalt inserts candidate unless a salt exists, then reads the
// stored one: the first writer wins and everyone reads its value.
func (s *Store) PairwiseSalt(ctx context.Context, workspaceID string, candidate []byte) ([]byte, error) {
	if _, err := s.reader().exec(ctx, `INSERT INTO pairwise_salts (workspace_id, salt) VALUES (?, ?) ON CONFLICT (workspace_id) DO NOTHING`,
		workspaceID, nonNil(candidate)); err != nil {
		return nil, mapError("pairwise salt", err)
	}
	var salt []byte
	err := s.reader().queryRow(ctx, `SELECT salt FROM pairwise_salts WHERE workspace_id = ?`, workspaceID).Scan(&salt)
	return salt, mapError("pairwise salt", err)
}
