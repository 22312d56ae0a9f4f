package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// TLS modes of an SMTP server.
const (
	TLSNone     = "none"     // plain SMTP (only sensible on a loopback relay)
	TLSStartTLS = "starttls" // RFC 3207 upgrade, required
	TLSImplicit = "tls"      // RFC 8314 implicit TLS (port 465)
)

// SMTP delivers messages through one SMTP server with net/smtp.
type SMTP struct {
	Host     string
	Port     int
	TLSMode  string
	Username string
	Password string
	// TLSConfig overrides the default (ServerName = Host, TLS 1.2+); tests
	// use it to trust their own certificate.
	TLSConfig *tls.Config
	// Timeout bounds a whole delivery (default 15s).
	Timeout time.Duration
}

var _ Transport = (*SMTP)(nil)

// Deliver sends m from from. Authentication (PLAIN, RFC 4616) is used only
// when a username is set, and net/smtp refuses to send it unencrypted
// except to localhost.
func (s *SMTP) Deliver(ctx context.Context, from string, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := s.send(c, from, m); err != nil {
		return err
	}
	return c.Quit()
}

func (s *SMTP) addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

func (s *SMTP) tlsConfig() *tls.Config {
	if s.TLSConfig != nil {
		return s.TLSConfig
	}
	return &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
}

func (s *SMTP) dial(ctx context.Context) (*smtp.Client, error) {
	d := &net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", s.addr())
	if err != nil {
		return nil, fmt.Errorf("mail: connect to %s: %w", s.addr(), err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if s.TLSMode == TLSImplicit {
		conn = tls.Client(conn, s.tlsConfig())
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("mail: greeting from %s: %w", s.addr(), err)
	}
	if s.TLSMode == TLSStartTLS {
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			c.Close()
			return nil, fmt.Errorf("mail: STARTTLS with %s: %w", s.addr(), err)
		}
	}
	return c, nil
}

func (s *SMTP) send(c *smtp.Client, from string, m Message) error {
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return fmt.Errorf("mail: authenticate: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("mail: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("mail: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if _, err := w.Write(render(from, m)); err != nil {
		return fmt.Errorf("mail: write message: %w", err)
	}
	return w.Close()
}

// render builds an RFC 5322 message: UTF-8 plain text, subject encoded
// per RFC 2047, CRLF line endings.
func render(from string, m Message) []byte {
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", from)
	hdr("To", m.To)
	hdr("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	hdr("Date", time.Now().UTC().Format(time.RFC1123Z))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	b.WriteString(body)
	if !strings.HasSuffix(body, "\r\n") {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}
