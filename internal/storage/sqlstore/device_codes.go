package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// deviceData is the JSON part of a device_codes row.
type deviceData struct {
	Scopes    []string `json:"scopes,omitempty"`
	SessionID string   `json:"session_id,omitempty"`
	AuthTime  int64    `json:"auth_time,omitempty"`
	AMR       []string `json:"amr,omitempty"`
	ACR       string   `json:"acr,omitempty"`
}

const deviceColumns = `workspace_id, hash, user_code_hash, client_id, status, interval_ms, last_polled_at,
created_at, expires_at, decided_at, used_at, user_id, data`

// CreateDeviceCode stores a pending device authorization (RFC 8628 §3.2).
func (s *Store) CreateDeviceCode(ctx context.Context, d storage.DeviceCode) error {
	data, err := json.Marshal(deviceData{Scopes: d.Scopes})
	if err != nil {
		return fmt.Errorf("sqlstore: encode device code: %w", err)
	}
	_, err = s.reader().exec(ctx, `INSERT INTO device_codes (`+deviceColumns+`) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, 0, 0, NULL, ?)`,
		d.WorkspaceID, nonNil(d.Hash), nonNil(d.UserCodeHash), d.ClientID, string(storage.DevicePending),
		d.Interval.Milliseconds(), toMillis(d.CreatedAt), toMillis(d.ExpiresAt), string(data))
	return mapError("create device code", err)
}

// GetDeviceCode reads a device authorization by device code hash.
func (s *Store) GetDeviceCode(ctx context.Context, workspaceID string, hash []byte) (storage.DeviceCode, error) {
	if !findable(workspaceID) {
		return storage.DeviceCode{}, storage.ErrNotFound
	}
	row := s.reader().queryRow(ctx, `SELECT `+deviceColumns+` FROM device_codes WHERE workspace_id = ? AND hash = ?`,
		workspaceID, nonNil(hash))
	return scanDeviceCode(row.Scan)
}

// GetDeviceCodeByUserCode reads a pending, unexpired authorization by
// the hash of its normalised user code (RFC 8628 §3.3).
func (s *Store) GetDeviceCodeByUserCode(ctx context.Context, workspaceID string, userCodeHash []byte, now time.Time) (storage.DeviceCode, error) {
	if !findable(workspaceID) {
		return storage.DeviceCode{}, storage.ErrNotFound
	}
	row := s.reader().queryRow(ctx, `SELECT `+deviceColumns+` FROM device_codes
WHERE workspace_id = ? AND user_code_hash = ? AND status = ? AND expires_at > ?`,
		workspaceID, nonNil(userCodeHash), string(storage.DevicePending), toMillis(now))
	return scanDeviceCode(row.Scan)
}

func scanDeviceCode(scan func(...any) error) (storage.DeviceCode, error) {
	var d storage.DeviceCode
	var status, data string
	var userID *string
	var interval, polled, created, expires, decided, used int64
	err := scan(&d.WorkspaceID, &d.Hash, &d.UserCodeHash, &d.ClientID, &status, &interval, &polled,
		&created, &expires, &decided, &used, &userID, &data)
	if err != nil {
		return storage.DeviceCode{}, mapError("get device code", err)
	}
	var dd deviceData
	if err := json.Unmarshal([]byte(data), &dd); err != nil {
		return storage.DeviceCode{}, fmt.Errorf("sqlstore: decode device code: %w", err)
	}
	if userID != nil {
		d.UserID = *userID
	}
	d.Status, d.Interval = storage.DeviceStatus(status), time.Duration(interval)*time.Millisecond
	d.LastPolledAt, d.CreatedAt, d.ExpiresAt = fromMillis(polled), fromMillis(created), fromMillis(expires)
	d.DecidedAt, d.UsedAt = fromMillis(decided), fromMillis(used)
	d.Scopes, d.SessionID, d.AuthTime, d.AMR, d.ACR = dd.Scopes, dd.SessionID, fromMillis(dd.AuthTime), dd.AMR, dd.ACR
	return d, nil
}

// DecideDeviceCode records the user's decision with one conditional
// UPDATE on a pending, unexpired row: the single-use gate of the device
// page (RFC 8628 §3.3).
func (s *Store) DecideDeviceCode(ctx context.Context, workspaceID string, hash []byte, now time.Time, d storage.DeviceDecision) error {
	if !findable(workspaceID, d.UserID) {
		return storage.ErrNotFound
	}
	return s.inTx(ctx, "decide device code", func(tx conn) error {
		var data string
		err := tx.queryRow(ctx, `SELECT data FROM device_codes WHERE workspace_id = ? AND hash = ? AND status = ? AND expires_at > ?`,
			workspaceID, nonNil(hash), string(storage.DevicePending), toMillis(now)).Scan(&data)
		if err != nil {
			return err
		}
		var dd deviceData
		if err := json.Unmarshal([]byte(data), &dd); err != nil {
			return abort{fmt.Errorf("sqlstore: decode device code: %w", err)}
		}
		status := storage.DeviceDenied
		if d.Approved {
			status = storage.DeviceApproved
			dd.SessionID, dd.AuthTime, dd.AMR, dd.ACR = d.SessionID, toMillis(d.AuthTime), d.AMR, d.ACR
		}
		out, err := json.Marshal(dd)
		if err != nil {
			return abort{err}
		}
		res, err := tx.exec(ctx, `UPDATE device_codes SET status = ?, decided_at = ?, user_id = ?, data = ?
WHERE workspace_id = ? AND hash = ? AND status = ? AND expires_at > ?`,
			string(status), toMillis(now), d.UserID, string(out), workspaceID, nonNil(hash), string(storage.DevicePending), toMillis(now))
		if err != nil {
			return err
		}
		if err := expectOne(res); err != nil {
			return abort{storage.ErrNotFound}
		}
		return nil
	})
}

// PollDeviceCode applies the polling interval of RFC 8628 §3.5 (pollPending).
func (s *Store) PollDeviceCode(ctx context.Context, workspaceID string, hash []byte, p storage.DevicePoll) (bool, error) {
	return s.pollPending(ctx, "device_codes", "poll device code", workspaceID, hash, p)
}

// RedeemDeviceCode is reliability invariant 1 for device codes: a device
// code yields one token response across every process sharing the
// database (RFC 8628 §3.5; SECURITY.md V4; redeemApproved).
func (s *Store) RedeemDeviceCode(ctx context.Context, workspaceID string, hash []byte, clientID string, now time.Time, f storage.TokenFamily, refreshHash []byte) error {
	return s.redeemApproved(ctx, "device_codes", "redeem device code", workspaceID, hash, clientID, now, f, refreshHash)
}
