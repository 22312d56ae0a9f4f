package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// cibaData is the JSON part of a ciba_requests row.
type cibaData struct {
	Scopes               []string `json:"scopes,omitempty"`
	BindingMessage       string   `json:"binding_message,omitempty"`
	DeliveryMode         string   `json:"delivery_mode,omitempty"`
	PingSecret           string   `json:"ping_secret,omitempty"`
	NotificationEndpoint string   `json:"notification_endpoint,omitempty"`
	SessionID            string   `json:"session_id,omitempty"`
	AuthTime             int64    `json:"auth_time,omitempty"`
	AMR                  []string `json:"amr,omitempty"`
	ACR                  string   `json:"acr,omitempty"`
}

const cibaColumns = `workspace_id, hash, link_hash, client_id, user_id, status, interval_ms, last_polled_at,
created_at, expires_at, decided_at, used_at, link_used_at, data`

// maxPendingCIBA bounds ListPendingCIBARequests.
const maxPendingCIBA = 50

// CreateCIBARequest stores a pending backchannel authentication request
// (CIBA Core §7.3).
func (s *Store) CreateCIBARequest(ctx context.Context, r storage.CIBARequest) error {
	data, err := json.Marshal(cibaData{
		Scopes: r.Scopes, BindingMessage: r.BindingMessage, DeliveryMode: r.DeliveryMode,
		PingSecret: r.PingSecret, NotificationEndpoint: r.NotificationEndpoint,
	})
	if err != nil {
		return fmt.Errorf("sqlstore: encode ciba request: %w", err)
	}
	_, err = s.reader().exec(ctx, `INSERT INTO ciba_requests (`+cibaColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 0, 0, 0, ?)`,
		r.WorkspaceID, nonNil(r.Hash), nonNil(r.LinkHash), r.ClientID, r.UserID, string(storage.DevicePending),
		r.Interval.Milliseconds(), toMillis(r.CreatedAt), toMillis(r.ExpiresAt), string(data))
	return mapError("create ciba request", err)
}

// GetCIBARequest reads a request by the hash of its auth_req_id.
func (s *Store) GetCIBARequest(ctx context.Context, workspaceID string, hash []byte) (storage.CIBARequest, error) {
	if !findable(workspaceID) {
		return storage.CIBARequest{}, storage.ErrNotFound
	}
	row := s.reader().queryRow(ctx, `SELECT `+cibaColumns+` FROM ciba_requests WHERE workspace_id = ? AND hash = ?`,
		workspaceID, nonNil(hash))
	return scanCIBARequest(row.Scan)
}

// ListPendingCIBARequests lists a user's pending, unexpired requests.
func (s *Store) ListPendingCIBARequests(ctx context.Context, workspaceID, userID string, now time.Time) ([]storage.CIBARequest, error) {
	if !findable(workspaceID, userID) {
		return nil, nil
	}
	rows, err := s.reader().query(ctx, `SELECT `+cibaColumns+` FROM ciba_requests
WHERE workspace_id = ? AND user_id = ? AND status = ? AND expires_at > ? ORDER BY created_at, hash LIMIT ?`,
		workspaceID, userID, string(storage.DevicePending), toMillis(now), maxPendingCIBA)
	if err != nil {
		return nil, mapError("list ciba requests", err)
	}
	defer rows.Close()
	var out []storage.CIBARequest
	for rows.Next() {
		r, err := scanCIBARequest(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, mapError("list ciba requests", rows.Err())
}

func scanCIBARequest(scan func(...any) error) (storage.CIBARequest, error) {
	var r storage.CIBARequest
	var status, data string
	var interval, polled, created, expires, decided, used, linkUsed int64
	err := scan(&r.WorkspaceID, &r.Hash, &r.LinkHash, &r.ClientID, &r.UserID, &status, &interval, &polled,
		&created, &expires, &decided, &used, &linkUsed, &data)
	if err != nil {
		return storage.CIBARequest{}, mapError("get ciba request", err)
	}
	var d cibaData
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return storage.CIBARequest{}, fmt.Errorf("sqlstore: decode ciba request: %w", err)
	}
	r.Status, r.Interval = storage.DeviceStatus(status), time.Duration(interval)*time.Millisecond
	r.LastPolledAt, r.CreatedAt, r.ExpiresAt = fromMillis(polled), fromMillis(created), fromMillis(expires)
	r.DecidedAt, r.UsedAt, r.LinkUsedAt = fromMillis(decided), fromMillis(used), fromMillis(linkUsed)
	r.Scopes, r.BindingMessage, r.DeliveryMode = d.Scopes, d.BindingMessage, d.DeliveryMode
	r.PingSecret, r.NotificationEndpoint = d.PingSecret, d.NotificationEndpoint
	r.SessionID, r.AuthTime, r.AMR, r.ACR = d.SessionID, fromMillis(d.AuthTime), d.AMR, d.ACR
	return r, nil
}

// UseCIBALink spends an emailed approval link with one conditional
// UPDATE, then reads the request it belongs to.
func (s *Store) UseCIBALink(ctx context.Context, workspaceID string, linkHash []byte, now time.Time) (storage.CIBARequest, error) {
	if !findable(workspaceID) {
		return storage.CIBARequest{}, storage.ErrNotFound
	}
	var out storage.CIBARequest
	err := s.inTx(ctx, "use ciba link", func(tx conn) error {
		res, err := tx.exec(ctx, `UPDATE ciba_requests SET link_used_at = ?
WHERE workspace_id = ? AND link_hash = ? AND link_used_at = 0 AND status = ? AND expires_at > ?`,
			toMillis(now), workspaceID, nonNil(linkHash), string(storage.DevicePending), toMillis(now))
		if err != nil {
			return err
		}
		if err := expectOne(res); err != nil {
			return abort{storage.ErrNotFound}
		}
		row := tx.queryRow(ctx, `SELECT `+cibaColumns+` FROM ciba_requests WHERE workspace_id = ? AND link_hash = ?`,
			workspaceID, nonNil(linkHash))
		out, err = scanCIBARequest(row.Scan)
		if err != nil {
			return abort{err}
		}
		return nil
	})
	return out, err
}

// DecideCIBARequest records the user's decision with one conditional
// UPDATE on a pending, unexpired request of that user (CIBA Core §8).
func (s *Store) DecideCIBARequest(ctx context.Context, workspaceID string, hash []byte, now time.Time, d storage.DeviceDecision) error {
	if !findable(workspaceID, d.UserID) {
		return storage.ErrNotFound
	}
	return s.inTx(ctx, "decide ciba request", func(tx conn) error {
		var data string
		err := tx.queryRow(ctx, `SELECT data FROM ciba_requests
WHERE workspace_id = ? AND hash = ? AND user_id = ? AND status = ? AND expires_at > ?`,
			workspaceID, nonNil(hash), d.UserID, string(storage.DevicePending), toMillis(now)).Scan(&data)
		if err != nil {
			return err
		}
		var cd cibaData
		if err := json.Unmarshal([]byte(data), &cd); err != nil {
			return abort{fmt.Errorf("sqlstore: decode ciba request: %w", err)}
		}
		status := storage.DeviceDenied
		if d.Approved {
			status = storage.DeviceApproved
			cd.SessionID, cd.AuthTime, cd.AMR, cd.ACR = d.SessionID, toMillis(d.AuthTime), d.AMR, d.ACR
		}
		out, err := json.Marshal(cd)
		if err != nil {
			return abort{err}
		}
		res, err := tx.exec(ctx, `UPDATE ciba_requests SET status = ?, decided_at = ?, data = ?
WHERE workspace_id = ? AND hash = ? AND user_id = ? AND status = ? AND expires_at > ?`,
			string(status), toMillis(now), string(out), workspaceID, nonNil(hash), d.UserID,
			string(storage.DevicePending), toMillis(now))
		if err != nil {
			return err
		}
		if err := expectOne(res); err != nil {
			return abort{storage.ErrNotFound}
		}
		return nil
	})
}

// PollCIBARequest applies the polling interval (CIBA Core §7.3, §11
// slow_down; pollPending).
func (s *Store) PollCIBARequest(ctx context.Context, workspaceID string, hash []byte, p storage.DevicePoll) (bool, error) {
	return s.pollPending(ctx, "ciba_requests", "poll ciba request", workspaceID, hash, p)
}

// RedeemCIBARequest is reliability invariant 1 for CIBA: an auth_req_id
// yields one token response across every process sharing the database
// (CIBA Core §10.1; redeemApproved).
func (s *Store) RedeemCIBARequest(ctx context.Context, workspaceID string, hash []byte, clientID string, now time.Time, f storage.TokenFamily, refreshHash []byte) error {
	return s.redeemApproved(ctx, "ciba_requests", "redeem ciba request", workspaceID, hash, clientID, now, f, refreshHash)
}
