package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// requestData is the JSON part of a pending authorization request row.
type requestData struct {
	BrowserHash   []byte          `json:"browser_hash"`
	RedirectURI   string          `json:"redirect_uri"`
	ResponseMode  string          `json:"response_mode,omitempty"`
	State         string          `json:"state,omitempty"`
	Nonce         string          `json:"nonce,omitempty"`
	Scopes        []string        `json:"scopes,omitempty"`
	CodeChallenge string          `json:"code_challenge,omitempty"`
	Prompt        []string        `json:"prompt,omitempty"`
	MaxAge        int             `json:"max_age"`
	LoginHint     string          `json:"login_hint,omitempty"`
	HintSubject   string          `json:"hint_subject,omitempty"`
	UILocales     []string        `json:"ui_locales,omitempty"`
	ACRValues     []string        `json:"acr_values,omitempty"`
	Claims        json.RawMessage `json:"claims,omitempty"`
	Resources     []string        `json:"resources,omitempty"`
	DPoPJKT       string          `json:"dpop_jkt,omitempty"`
	// AuthorizationDetails: RFC 9396 §2 (authzdetails.go).
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
}

// CreateAuthRequest stores a pending request.
func (s *Store) CreateAuthRequest(ctx context.Context, r storage.AuthRequest) error {
	data, err := json.Marshal(requestData{
		BrowserHash: r.BrowserHash, RedirectURI: r.RedirectURI, ResponseMode: r.ResponseMode, State: r.State,
		Nonce: r.Nonce, Scopes: r.Scopes, CodeChallenge: r.CodeChallenge, Prompt: r.Prompt, MaxAge: r.MaxAge,
		LoginHint: r.LoginHint, HintSubject: r.HintSubject, UILocales: r.UILocales, ACRValues: r.ACRValues, Claims: r.Claims,
		Resources: r.Resources, DPoPJKT: r.DPoPJKT, AuthorizationDetails: r.AuthorizationDetails,
	})
	if err != nil {
		return fmt.Errorf("sqlstore: encode authorization request: %w", err)
	}
	_, err = s.reader().exec(ctx, `INSERT INTO auth_requests (workspace_id, id, client_id, created_at, expires_at, data) VALUES (?, ?, ?, ?, ?, ?)`,
		r.WorkspaceID, r.ID, r.ClientID, toMillis(r.CreatedAt), toMillis(r.ExpiresAt), string(data))
	return mapError("create authorization request", err)
}

// GetAuthRequest reads a pending request that has not expired at now.
func (s *Store) GetAuthRequest(ctx context.Context, workspaceID, id string, now time.Time) (storage.AuthRequest, error) {
	if !findable(workspaceID, id) {
		return storage.AuthRequest{}, storage.ErrNotFound
	}
	r := storage.AuthRequest{WorkspaceID: workspaceID, ID: id}
	var created, expires int64
	var data string
	err := s.cachedRow(ctx, s.reader(), `SELECT client_id, created_at, expires_at, data FROM auth_requests
WHERE workspace_id = ? AND id = ? AND expires_at > ?`, workspaceID, id, toMillis(now)).Scan(&r.ClientID, &created, &expires, &data)
	if err != nil {
		return storage.AuthRequest{}, mapError("get authorization request", err)
	}
	var d requestData
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return storage.AuthRequest{}, fmt.Errorf("sqlstore: decode authorization request: %w", err)
	}
	r.CreatedAt, r.ExpiresAt = fromMillis(created), fromMillis(expires)
	r.BrowserHash, r.RedirectURI, r.ResponseMode, r.State, r.Nonce = d.BrowserHash, d.RedirectURI, d.ResponseMode, d.State, d.Nonce
	r.Scopes, r.CodeChallenge, r.Prompt, r.MaxAge, r.LoginHint = d.Scopes, d.CodeChallenge, d.Prompt, d.MaxAge, d.LoginHint
	r.HintSubject, r.UILocales, r.ACRValues, r.Claims = d.HintSubject, d.UILocales, d.ACRValues, d.Claims
	r.Resources, r.DPoPJKT = d.Resources, d.DPoPJKT
	r.AuthorizationDetails = d.AuthorizationDetails
	return r, nil
}

// DeleteAuthRequest removes a pending request; one DELETE is the
// single-use gate.
func (s *Store) DeleteAuthRequest(ctx context.Context, workspaceID, id string) error {
	if !findable(workspaceID, id) {
		return storage.ErrNotFound
	}
	res, err := s.reader().exec(ctx, `DELETE FROM auth_requests WHERE workspace_id = ? AND id = ?`, workspaceID, id)
	if err == nil {
		err = expectOne(res)
	}
	return mapError("delete authorization request", err)
}

// codeData is the JSON part of an authorization code row.
type codeData struct {
	RedirectURI   string          `json:"redirect_uri"`
	Scopes        []string        `json:"scopes,omitempty"`
	CodeChallenge string          `json:"code_challenge,omitempty"`
	Nonce         string          `json:"nonce,omitempty"`
	SessionID     string          `json:"session_id,omitempty"`
	AuthTime      int64           `json:"auth_time"`
	AMR           []string        `json:"amr,omitempty"`
	ACR           string          `json:"acr,omitempty"`
	Claims        json.RawMessage `json:"claims,omitempty"`
	DPoPJKT       string          `json:"dpop_jkt,omitempty"`
	// AuthorizationDetails: RFC 9396 §2 (authzdetails.go).
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
}

const codeColumns = `workspace_id, hash, family_id, client_id, user_id, created_at, expires_at, used_at, data`

// CreateAuthCode stores an authorization code by hash.
func (s *Store) CreateAuthCode(ctx context.Context, c storage.AuthCode) error {
	data, err := json.Marshal(codeData{
		RedirectURI: c.RedirectURI, Scopes: c.Scopes, CodeChallenge: c.CodeChallenge, Nonce: c.Nonce,
		SessionID: c.SessionID, AuthTime: toMillis(c.AuthTime), AMR: c.AMR, ACR: c.ACR, Claims: c.Claims, DPoPJKT: c.DPoPJKT,
		AuthorizationDetails: c.AuthorizationDetails,
	})
	if err != nil {
		return fmt.Errorf("sqlstore: encode authorization code: %w", err)
	}
	_, err = s.reader().exec(ctx, `INSERT INTO auth_codes (`+codeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.WorkspaceID, nonNil(c.Hash), c.FamilyID, c.ClientID, c.UserID, toMillis(c.CreatedAt), toMillis(c.ExpiresAt),
		toMillis(c.UsedAt), string(data))
	return mapError("create authorization code", err)
}

// GetAuthCode reads a code by hash, whatever its state.
func (s *Store) GetAuthCode(ctx context.Context, workspaceID string, hash []byte) (storage.AuthCode, error) {
	if !findable(workspaceID) {
		return storage.AuthCode{}, storage.ErrNotFound
	}
	var c storage.AuthCode
	var created, expires, used int64
	var data string
	err := s.scanCached(ctx, s.reader(), `SELECT `+codeColumns+` FROM auth_codes WHERE workspace_id = ? AND hash = ?`,
		[]any{workspaceID, nonNil(hash)}, &c.WorkspaceID, &c.Hash, &c.FamilyID, &c.ClientID, &c.UserID, &created, &expires, &used, &data)
	if err != nil {
		return storage.AuthCode{}, mapError("get authorization code", err)
	}
	var d codeData
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return storage.AuthCode{}, fmt.Errorf("sqlstore: decode authorization code: %w", err)
	}
	c.CreatedAt, c.ExpiresAt, c.UsedAt = fromMillis(created), fromMillis(expires), fromMillis(used)
	c.RedirectURI, c.Scopes, c.CodeChallenge, c.Nonce, c.SessionID = d.RedirectURI, d.Scopes, d.CodeChallenge, d.Nonce, d.SessionID
	c.AuthTime, c.AMR, c.ACR, c.Claims = fromMillis(d.AuthTime), d.AMR, d.ACR, d.Claims
	c.DPoPJKT, c.AuthorizationDetails = d.DPoPJKT, d.AuthorizationDetails
	return c, nil
}

// RedeemAuthCode is reliability invariant 1: one conditional UPDATE spends
// the code, and the family (plus its first refresh token) is inserted in
// the same transaction, so a code yields tokens at most once across every
// process sharing the database, and a crash cannot leave a spent code
// without its recorded grant.
func (s *Store) RedeemAuthCode(ctx context.Context, workspaceID string, hash []byte, now time.Time, f storage.TokenFamily, refreshHash []byte) error {
	r := codeRedemption{workspaceID: workspaceID, hash: hash, now: now, family: f, refreshHash: refreshHash}
	if s.redeemBatch != nil {
		return s.redeemBatched(ctx, r)
	}
	return s.redeemAlone(ctx, r)
}

// codeRedemption is one RedeemAuthCode call.
type codeRedemption struct {
	workspaceID string
	hash        []byte
	now         time.Time
	family      storage.TokenFamily
	refreshHash []byte
}

// redeemAlone is one redemption in a transaction of its own.
func (s *Store) redeemAlone(ctx context.Context, r codeRedemption) error {
	s.warm(ctx, redemptionQueries...)
	return s.inTx(ctx, "redeem authorization code", func(tx conn) error { return s.redeemInTx(ctx, tx, r) })
}

const spendCodeQuery = `UPDATE auth_codes SET used_at = ? WHERE workspace_id = ? AND hash = ? AND used_at = 0 AND expires_at > ?`

// redeemInTx spends the code with one conditional UPDATE (so of
// concurrent redemptions exactly one matches a row) and records the grant;
// a code that is unknown, spent or expired writes nothing and aborts. Its
// three statements go through the statement cache (stmtcache.go).
func (s *Store) redeemInTx(ctx context.Context, tx conn, r codeRedemption) error {
	exec := s.txExec(tx)
	res, err := exec(ctx, spendCodeQuery,
		toMillis(r.now), r.workspaceID, nonNil(r.hash), toMillis(r.now))
	if err != nil {
		return err
	}
	if err := expectOne(res); err != nil {
		return abort{storage.ErrNotFound}
	}
	f := r.family
	f.WorkspaceID = r.workspaceID
	return insertGrantWith(ctx, exec, f, r.refreshHash, r.now)
}
