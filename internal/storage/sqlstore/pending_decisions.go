package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// Device codes (RFC 8628) and CIBA requests (CIBA Core) are polled and
// spent the same way; table is "device_codes" or "ciba_requests", a
// constant of this package, never input.

// pollPending applies the polling interval (RFC 8628 §3.5, CIBA Core §11):
// a poll that respects it is recorded; one that comes too early raises the
// interval (slow_down) and reports tooFast. Each outcome is one
// conditional UPDATE, so every process applies the same interval.
func (s *Store) pollPending(ctx context.Context, table, op, workspaceID string, hash []byte, p storage.DevicePoll) (tooFast bool, err error) {
	if !findable(workspaceID) {
		return false, storage.ErrNotFound
	}
	now := toMillis(p.Now)
	res, err := s.reader().exec(ctx, `UPDATE `+table+` SET last_polled_at = ?
WHERE workspace_id = ? AND hash = ? AND status = ? AND (last_polled_at = 0 OR last_polled_at + interval_ms - ? <= ?)`,
		now, workspaceID, nonNil(hash), string(storage.DevicePending), p.Slack.Milliseconds(), now)
	if err == nil {
		err = expectOne(res)
	}
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return false, mapError(op, err)
	}
	res, err = s.reader().exec(ctx, `UPDATE `+table+` SET last_polled_at = ?, interval_ms = interval_ms + ?
WHERE workspace_id = ? AND hash = ? AND status = ?`,
		now, p.SlowDown.Milliseconds(), workspaceID, nonNil(hash), string(storage.DevicePending))
	if err == nil {
		err = expectOne(res)
	}
	if err != nil {
		return false, mapError(op, err)
	}
	return true, nil
}

// redeemApproved is reliability invariant 1 for polled grants: one
// conditional UPDATE spends the approved record and the token family is
// inserted in the same transaction, so a record yields one token response
// across every process sharing the database.
func (s *Store) redeemApproved(ctx context.Context, table, op, workspaceID string, hash []byte, clientID string, now time.Time, f storage.TokenFamily, refreshHash []byte) error {
	if !findable(workspaceID, clientID) {
		return storage.ErrNotFound
	}
	return s.inTx(ctx, op, func(tx conn) error {
		res, err := tx.exec(ctx, `UPDATE `+table+` SET status = ?, used_at = ?
WHERE workspace_id = ? AND hash = ? AND client_id = ? AND status = ? AND expires_at > ?`,
			string(storage.DeviceUsed), toMillis(now), workspaceID, nonNil(hash), clientID,
			string(storage.DeviceApproved), toMillis(now))
		if err != nil {
			return err
		}
		if err := expectOne(res); err != nil {
			return abort{storage.ErrNotFound}
		}
		f.WorkspaceID = workspaceID
		return insertGrant(ctx, tx, f, refreshHash, now)
	})
}
