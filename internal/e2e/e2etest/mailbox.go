package e2etest

import (
	"io"
	"net"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Mailbox is a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 that keeps every message delivered to it, so that a test
// reads what Latchkey mailed (a client secret's view code, a password
// link) the way its recipient would.
type Mailbox struct {
	// Port is where it listens on 127.0.0.1.
	Port string

	mu   sync.Mutex
	msgs []string
}

// StartMailbox starts a Mailbox, closed at the end of the test.
func StartMailbox(t testing.TB) *Mailbox {
	t.Helper()
	m := &Mailbox{}
	srv := smtp.NewServer(m)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("SMTP listener: %v", err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	_, m.Port, _ = net.SplitHostPort(ln.Addr().String())
	return m
}

// Env is the LATCHKEY_* configuration that sends Latchkey's mail here,
// in plain text (no TLS on loopback).
func (m *Mailbox) Env() map[string]string {
	return map[string]string{
		"LATCHKEY_SMTP_HOST": "127.0.0.1", "LATCHKEY_SMTP_PORT": m.Port,
		"LATCHKEY_SMTP_TLS": "none", "LATCHKEY_SMTP_FROM": "latchkey@example.com",
	}
}

// Last is the last message delivered (headers and body), or "".
func (m *Mailbox) Last() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.msgs) == 0 {
		return ""
	}
	return m.msgs[len(m.msgs)-1]
}

// WaitFor waits up to 5 seconds for the last message to match re and
// returns the match with its submatches; it fails t when none arrives.
func (m *Mailbox) WaitFor(t testing.TB, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if match := re.FindStringSubmatch(m.Last()); match != nil {
			return match
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no message matching %s delivered; last: %q", re, m.Last())
	return nil
}

// NewSession implements smtp.Backend.
func (m *Mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{box: m}, nil }

func (m *Mailbox) add(msg string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
}

// mailSession accepts any sender and recipient and keeps the data.
type mailSession struct{ box *Mailbox }

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Reset()                               {}
func (s *mailSession) Logout() error                        { return nil }

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.add(string(b))
	return nil
}
