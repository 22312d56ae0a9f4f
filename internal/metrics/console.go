package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// The console part of storage.Storage (admin users, sessions, one-time
// codes, audit log, outbox), counted like the rest.

func (i *instrumented) CreateAdminUser(ctx context.Context, u storage.AdminUser) error {
	return i.count(ctx, i.s.CreateAdminUser(ctx, u))
}

func (i *instrumented) GetAdminUser(ctx context.Context, id string) (storage.AdminUser, error) {
	u, err := i.s.GetAdminUser(ctx, id)
	return u, i.count(ctx, err)
}

func (i *instrumented) GetAdminUserByUsername(ctx context.Context, username string) (storage.AdminUser, error) {
	u, err := i.s.GetAdminUserByUsername(ctx, username)
	return u, i.count(ctx, err)
}

func (i *instrumented) ListAdminUsers(ctx context.Context, o storage.ListOptions) (storage.Page[storage.AdminUser], error) {
	p, err := i.s.ListAdminUsers(ctx, o)
	return p, i.count(ctx, err)
}

func (i *instrumented) UpdateAdminUser(ctx context.Context, id string, u func(storage.AdminUser) (storage.AdminUser, error)) (storage.AdminUser, error) {
	return update(ctx, i, func(f func(storage.AdminUser) (storage.AdminUser, error)) (storage.AdminUser, error) {
		return i.s.UpdateAdminUser(ctx, id, f)
	}, u)
}

func (i *instrumented) DeleteAdminUser(ctx context.Context, id string) error {
	return i.count(ctx, i.s.DeleteAdminUser(ctx, id))
}

func (i *instrumented) CountAdminUsers(ctx context.Context, role string) (int, error) {
	n, err := i.s.CountAdminUsers(ctx, role)
	return n, i.count(ctx, err)
}

func (i *instrumented) CreateConsoleSession(ctx context.Context, s storage.ConsoleSession) error {
	return i.count(ctx, i.s.CreateConsoleSession(ctx, s))
}

func (i *instrumented) GetConsoleSession(ctx context.Context, idHash []byte) (storage.ConsoleSession, error) {
	s, err := i.s.GetConsoleSession(ctx, idHash)
	return s, i.count(ctx, err)
}

func (i *instrumented) TouchConsoleSession(ctx context.Context, idHash []byte, lastSeen time.Time) error {
	return i.count(ctx, i.s.TouchConsoleSession(ctx, idHash, lastSeen))
}

func (i *instrumented) DeleteConsoleSession(ctx context.Context, idHash []byte) error {
	return i.count(ctx, i.s.DeleteConsoleSession(ctx, idHash))
}

func (i *instrumented) DeleteAdminUserSessions(ctx context.Context, id string) error {
	return i.count(ctx, i.s.DeleteAdminUserSessions(ctx, id))
}

func (i *instrumented) PutOneTimeCode(ctx context.Context, c storage.OneTimeCode) error {
	return i.count(ctx, i.s.PutOneTimeCode(ctx, c))
}

// ConsumeOneTimeCode does not count ErrWrongCode: a wrong code is an answer.
func (i *instrumented) ConsumeOneTimeCode(ctx context.Context, k storage.OneTimeCodeKey, h []byte, now time.Time) (int, error) {
	n, err := i.s.ConsumeOneTimeCode(ctx, k, h, now)
	if errors.Is(err, storage.ErrWrongCode) {
		return n, err
	}
	return n, i.count(ctx, err)
}

func (i *instrumented) AppendAuditEvent(ctx context.Context, e storage.AuditEvent) error {
	return i.count(ctx, i.s.AppendAuditEvent(ctx, e))
}

func (i *instrumented) ListAuditEvents(ctx context.Context, f storage.AuditFilter) (storage.AuditPage, error) {
	p, err := i.s.ListAuditEvents(ctx, f)
	return p, i.count(ctx, err)
}

func (i *instrumented) EnqueueMail(ctx context.Context, m storage.Mail) error {
	return i.count(ctx, i.s.EnqueueMail(ctx, m))
}

func (i *instrumented) MarkMail(ctx context.Context, id string, sentAt time.Time, errText string) error {
	return i.count(ctx, i.s.MarkMail(ctx, id, sentAt, errText))
}

func (i *instrumented) ListMail(ctx context.Context, limit int) ([]storage.Mail, error) {
	m, err := i.s.ListMail(ctx, limit)
	return m, i.count(ctx, err)
}

func (i *instrumented) GetMail(ctx context.Context, id string) (storage.Mail, error) {
	m, err := i.s.GetMail(ctx, id)
	return m, i.count(ctx, err)
}

func (i *instrumented) DeleteExpiredConsoleData(ctx context.Context, idleBefore, createdBefore, now time.Time) (int64, error) {
	n, err := i.s.DeleteExpiredConsoleData(ctx, idleBefore, createdBefore, now)
	return n, i.count(ctx, err)
}
