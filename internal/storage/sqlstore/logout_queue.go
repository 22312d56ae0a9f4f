package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// The back-channel logout queue (OpenID Connect Back-Channel Logout 1.0
// §2.5, §2.7; migration 0015).

const logoutColumns = `workspace_id, id, client_id, user_id, session_id, attempts, created_at, next_attempt_at, claim, last_error`

// endedSession names a browser session being deleted.
type endedSession struct{ id, userID string }

// deleteSessionsWithLogout deletes the sessions that match where (a
// condition on browser_sessions with args) and, in the same transaction,
// queues a logout message for every client with a backchannel_logout_uri
// that was issued tokens in one of them. It returns the number of
// sessions deleted.
func (s *Store) deleteSessionsWithLogout(ctx context.Context, op, workspaceID, where string, args ...any) (int64, error) {
	var n int64
	err := s.inTx(ctx, op, func(tx conn) error {
		rows, err := tx.query(ctx, `SELECT id, user_id FROM browser_sessions WHERE workspace_id = ? AND `+where,
			append([]any{workspaceID}, args...)...)
		if err != nil {
			return err
		}
		var ended []endedSession
		for rows.Next() {
			var e endedSession
			if err := rows.Scan(&e.id, &e.userID); err != nil {
				rows.Close()
				return err
			}
			ended = append(ended, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if err := s.queueLogout(ctx, tx, workspaceID, ended); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `DELETE FROM browser_sessions WHERE workspace_id = ? AND `+where,
			append([]any{workspaceID}, args...)...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, mapError(op, err)
}

// queueLogout inserts the messages of the ended sessions (at most one per
// session and client: ON CONFLICT DO NOTHING).
func (s *Store) queueLogout(ctx context.Context, tx conn, workspaceID string, ended []endedSession) error {
	if len(ended) == 0 {
		return nil
	}
	now := toMillis(s.clock())
	users := map[string][]string{} // user → ended session IDs
	for _, e := range ended {
		users[e.userID] = append(users[e.userID], e.id)
	}
	wants := map[string]bool{} // client ID → has a back-channel URI
	for userID, sessions := range users {
		fams, err := sessionFamilies(ctx, tx, workspaceID, userID)
		if err != nil {
			return err
		}
		for _, f := range fams {
			if !slices.Contains(sessions, f.sessionID) {
				continue
			}
			want, seen := wants[f.clientID]
			if !seen {
				want, err = clientWantsBackchannel(ctx, tx, workspaceID, f.clientID)
				if err != nil {
					return err
				}
				wants[f.clientID] = want
			}
			if !want {
				continue
			}
			_, err = tx.exec(ctx, `INSERT INTO logout_queue (`+logoutColumns+`) VALUES (?, ?, ?, ?, ?, 0, ?, ?, '', '')
ON CONFLICT (workspace_id, session_id, client_id) DO NOTHING`,
				workspaceID, randomID(), f.clientID, userID, f.sessionID, now, now)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

type sessionFamily struct{ clientID, sessionID string }

// sessionFamilies lists the (client, session) pairs of a user's token
// families that carry a session.
func sessionFamilies(ctx context.Context, tx conn, workspaceID, userID string) ([]sessionFamily, error) {
	rows, err := tx.query(ctx, `SELECT client_id, data FROM token_families WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sessionFamily
	for rows.Next() {
		var clientID, data string
		if err := rows.Scan(&clientID, &data); err != nil {
			return nil, err
		}
		var d struct {
			SessionID string `json:"session_id"`
		}
		if err := json.Unmarshal([]byte(data), &d); err != nil {
			return nil, abort{fmt.Errorf("sqlstore: decode token family: %w", err)}
		}
		if d.SessionID != "" {
			out = append(out, sessionFamily{clientID: clientID, sessionID: d.SessionID})
		}
	}
	return out, rows.Err()
}

func clientWantsBackchannel(ctx context.Context, tx conn, workspaceID, clientID string) (bool, error) {
	var data string
	var enabled bool
	err := tx.queryRow(ctx, `SELECT enabled, data FROM clients WHERE workspace_id = ? AND id = ?`, workspaceID, clientID).Scan(&enabled, &data)
	if err != nil {
		return false, err
	}
	var c storage.Client
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return false, abort{fmt.Errorf("sqlstore: decode client: %w", err)}
	}
	return enabled && c.BackchannelLogoutURI != "", nil
}

func (s *Store) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SessionClients lists the clients issued tokens in a browser session.
func (s *Store) SessionClients(ctx context.Context, workspaceID, userID, sessionID string) ([]string, error) {
	if !findable(workspaceID, userID, sessionID) {
		return []string{}, nil
	}
	fams, err := sessionFamilies(ctx, s.reader(), workspaceID, userID)
	if err != nil {
		return nil, mapError("list session clients", err)
	}
	out := []string{}
	for _, f := range fams {
		if f.sessionID == sessionID && !slices.Contains(out, f.clientID) {
			out = append(out, f.clientID)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ClaimLogoutMessages leases due messages: each is claimed by one
// conditional UPDATE on its next_attempt_at, so of several processes
// that select the same row exactly one claims it.
func (s *Store) ClaimLogoutMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]storage.LogoutMessage, error) {
	if limit <= 0 {
		limit = 1
	}
	rows, err := s.reader().query(ctx, `SELECT workspace_id, id FROM logout_queue WHERE next_attempt_at <= ?
ORDER BY next_attempt_at, workspace_id, id LIMIT ?`, toMillis(now), limit)
	if err != nil {
		return nil, mapError("claim logout messages", err)
	}
	type key struct{ ws, id string }
	var due []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.ws, &k.id); err != nil {
			rows.Close()
			return nil, mapError("claim logout messages", err)
		}
		due = append(due, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapError("claim logout messages", err)
	}
	out := []storage.LogoutMessage{}
	until := toMillis(now.Add(lease))
	for _, k := range due {
		claim := randomID()
		res, err := s.reader().exec(ctx, `UPDATE logout_queue SET next_attempt_at = ?, claim = ?, attempts = attempts + 1
WHERE workspace_id = ? AND id = ? AND next_attempt_at <= ?`, until, claim, k.ws, k.id, toMillis(now))
		if err == nil {
			err = expectOne(res)
		}
		if errors.Is(err, storage.ErrNotFound) {
			continue // another process claimed it first
		}
		if err != nil {
			return out, mapError("claim logout messages", err)
		}
		m, err := scanLogoutMessage(s.reader().queryRow(ctx, `SELECT `+logoutColumns+` FROM logout_queue
WHERE workspace_id = ? AND id = ? AND claim = ?`, k.ws, k.id, claim).Scan)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
	return out, nil
}

func scanLogoutMessage(scan func(...any) error) (storage.LogoutMessage, error) {
	var m storage.LogoutMessage
	var attempts, created, next int64
	err := scan(&m.WorkspaceID, &m.ID, &m.ClientID, &m.UserID, &m.SessionID, &attempts, &created, &next, &m.Claim, &m.LastError)
	if err != nil {
		return storage.LogoutMessage{}, mapError("get logout message", err)
	}
	m.Attempts, m.CreatedAt, m.NextAttemptAt = int(attempts), fromMillis(created), fromMillis(next)
	return m, nil
}

// DeleteLogoutMessage removes a message still leased with m.Claim.
func (s *Store) DeleteLogoutMessage(ctx context.Context, m storage.LogoutMessage) error {
	if !findable(m.WorkspaceID, m.ID) || m.Claim == "" {
		return storage.ErrNotFound
	}
	res, err := s.reader().exec(ctx, `DELETE FROM logout_queue WHERE workspace_id = ? AND id = ? AND claim = ?`, m.WorkspaceID, m.ID, m.Claim)
	if err == nil {
		err = expectOne(res)
	}
	return mapError("delete logout message", err)
}

// maxLogoutError caps the recorded delivery error.
const maxLogoutError = 512

// RetryLogoutMessage reschedules a message still leased with m.Claim.
func (s *Store) RetryLogoutMessage(ctx context.Context, m storage.LogoutMessage, next time.Time, lastError string) error {
	if !findable(m.WorkspaceID, m.ID) || m.Claim == "" {
		return storage.ErrNotFound
	}
	if len(lastError) > maxLogoutError {
		lastError = lastError[:maxLogoutError]
	}
	res, err := s.reader().exec(ctx, `UPDATE logout_queue SET next_attempt_at = ?, claim = '', last_error = ?
WHERE workspace_id = ? AND id = ? AND claim = ?`, toMillis(next), storableText(lastError), m.WorkspaceID, m.ID, m.Claim)
	if err == nil {
		err = expectOne(res)
	}
	return mapError("retry logout message", err)
}

// ListLogoutMessages lists a workspace's queued messages, oldest first.
func (s *Store) ListLogoutMessages(ctx context.Context, workspaceID string) ([]storage.LogoutMessage, error) {
	out := []storage.LogoutMessage{}
	if !findable(workspaceID) {
		return out, nil
	}
	rows, err := s.reader().query(ctx, `SELECT `+logoutColumns+` FROM logout_queue WHERE workspace_id = ? ORDER BY created_at, id`, workspaceID)
	if err != nil {
		return nil, mapError("list logout messages", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanLogoutMessage(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, mapError("list logout messages", rows.Err())
}
