package sqlstore

import (
	"context"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

const mailColumns = `id, to_addr, subject, body, created_at, sent_at, error`

// EnqueueMail stores m in the outbox; a duplicate ID is ErrAlreadyExists.
func (s *Store) EnqueueMail(ctx context.Context, m storage.Mail) error {
	_, err := s.reader().exec(ctx, `INSERT INTO mail_outbox (`+mailColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.To, m.Subject, m.Body, toMillis(m.CreatedAt), toMillis(m.SentAt), m.Error)
	return mapError("enqueue mail", err)
}

// MarkMail records a delivery attempt.
func (s *Store) MarkMail(ctx context.Context, id string, sentAt time.Time, errText string) error {
	res, err := s.reader().exec(ctx, `UPDATE mail_outbox SET sent_at = ?, error = ? WHERE id = ?`, toMillis(sentAt), errText, id)
	if err == nil {
		err = expectOne(res)
	}
	return mapError("mark mail", err)
}

// GetMail returns the message id; ErrNotFound when there is none (or id
// is text no message ID can hold, text.go).
func (s *Store) GetMail(ctx context.Context, id string) (storage.Mail, error) {
	if !storage.ValidText(id) {
		return storage.Mail{}, storage.ErrNotFound
	}
	var m storage.Mail
	var created, sent int64
	err := s.reader().queryRow(ctx, `SELECT `+mailColumns+` FROM mail_outbox WHERE id = ?`, id).
		Scan(&m.ID, &m.To, &m.Subject, &m.Body, &created, &sent, &m.Error)
	if err != nil {
		return storage.Mail{}, mapError("get mail", err)
	}
	m.CreatedAt, m.SentAt = fromMillis(created), fromMillis(sent)
	return m, nil
}

// ListMail returns the newest messages first.
func (s *Store) ListMail(ctx context.Context, limit int) ([]storage.Mail, error) {
	rows, err := s.reader().query(ctx, `SELECT `+mailColumns+` FROM mail_outbox ORDER BY created_at DESC, id DESC LIMIT ?`, clampLimit(limit))
	if err != nil {
		return nil, mapError("list mail", err)
	}
	defer rows.Close()
	var out []storage.Mail
	for rows.Next() {
		var m storage.Mail
		var created, sent int64
		if err := rows.Scan(&m.ID, &m.To, &m.Subject, &m.Body, &created, &sent, &m.Error); err != nil {
			return nil, mapError("list mail", err)
		}
		m.CreatedAt, m.SentAt = fromMillis(created), fromMillis(sent)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("list mail", err)
	}
	return out, nil
}
