package config

import (
	"net/mail"
	"strconv"
	"strings"
)

// FileSMTP is the smtp section.
type FileSMTP struct {
	Host     string `yaml:"host"`
	Port     string `yaml:"port"`
	TLS      string `yaml:"tls"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	From     string `yaml:"from"`
}

// SMTP is the resolved mail server; Host "" means none.
type SMTP struct {
	Host     string
	Port     int
	TLS      string // none, starttls or tls
	Username string
	Password string
	From     string
}

// resolveSMTP validates the smtp section. The password never appears in
// a message.
func resolveSMTP(l *loader, r *Resolved) {
	f := l.file.SMTP
	s := SMTP{Host: strings.TrimSpace(f.Host), Username: strings.TrimSpace(f.Username), Password: f.Password,
		From: strings.TrimSpace(f.From), TLS: orDefault(f.TLS, "starttls")}
	if s.Host == "" {
		return
	}
	if s.TLS != "none" && s.TLS != "starttls" && s.TLS != "tls" {
		l.fail("smtp.tls", "%q must be none, starttls or tls", s.TLS)
	}
	s.Port = 587
	if s.TLS == "tls" {
		s.Port = 465
	}
	if raw := strings.TrimSpace(f.Port); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 65535 {
			l.fail("smtp.port", "%q must be a number from 1 to 65535", raw)
		}
		s.Port = n
	}
	if a, err := mail.ParseAddress(s.From); err != nil || a.Address != s.From {
		l.fail("smtp.from", "must be a plain e-mail address when smtp.host is set")
	}
	r.SMTP = s
}
