package mail

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// Message is one plain-text e-mail.
type Message struct {
	To      string
	Subject string
	Body    string
}

// Transport delivers a message (SMTP in production, fakes in tests).
type Transport interface {
	Deliver(ctx context.Context, from string, m Message) error
}

// ErrInvalidMessage reports a recipient or subject that cannot be sent
// safely (not a bare address, or a line break that would inject headers).
var ErrInvalidMessage = errors.New("mail: invalid message")

// Validate checks m before it goes anywhere.
func (m Message) Validate() error {
	addr, err := mail.ParseAddress(m.To)
	if err != nil || addr.Address != m.To {
		return fmt.Errorf("%w: recipient is not a plain e-mail address", ErrInvalidMessage)
	}
	if strings.ContainsAny(m.Subject, "\r\n") || strings.ContainsAny(m.To, "\r\n") {
		return fmt.Errorf("%w: line break in a header", ErrInvalidMessage)
	}
	return nil
}

// MailStore is the outbox in storage.
type MailStore interface {
	EnqueueMail(ctx context.Context, m storage.Mail) error
}

// The production implementation.
var _ MailStore = storage.Storage(nil)

// Outbox records every message in storage and, when Transport is set,
// delivers it. Without Transport the stored message is the delivery.
type Outbox struct {
	Store     MailStore
	Transport Transport // nil: keep mail in the outbox only
	From      string
	Now       func() time.Time
	Logger    *slog.Logger
}

// sentBodyPlaceholder replaces the body of messages SMTP delivered: the
// outbox then keeps no one-time code that already reached its recipient.
const sentBodyPlaceholder = "(delivered by SMTP; the body is not kept)"

// Send records m and delivers it when SMTP is configured. A delivery
// failure is recorded on the message and returned.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	rec := storage.Mail{ID: newID(), To: m.To, Subject: m.Subject, Body: m.Body, CreatedAt: o.now()}
	if o.Transport == nil {
		return o.Store.EnqueueMail(ctx, rec)
	}
	err := o.Transport.Deliver(ctx, o.From, m)
	if err != nil {
		o.logger().WarnContext(ctx, "mail: delivery failed", slog.Any("error", err))
		rec.Error = truncate(err.Error(), 500)
		rec.Body = "(not delivered; the body is not kept)"
	} else {
		rec.SentAt, rec.Body = o.now(), sentBodyPlaceholder
	}
	if serr := o.Store.EnqueueMail(ctx, rec); serr != nil {
		o.logger().ErrorContext(ctx, "mail: record message", slog.Any("error", serr))
	}
	if err != nil {
		return fmt.Errorf("mail: deliver: %w", err)
	}
	return nil
}

// Delivers reports whether messages leave the server (SMTP configured).
func (o *Outbox) Delivers() bool { return o.Transport != nil }

func (o *Outbox) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

func (o *Outbox) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// newID is time-ordered (milliseconds first) so IDs sort like creation.
func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return fmt.Sprintf("m%013d_%s", time.Now().UnixMilli(), base64.RawURLEncoding.EncodeToString(b))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// SendMail is Send with the fields spelled out (service.Mailer).
func (o *Outbox) SendMail(ctx context.Context, to, subject, body string) error {
	return o.Send(ctx, Message{To: to, Subject: subject, Body: body})
}
