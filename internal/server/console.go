package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"github.com/latchkey/latchkey/internal/console"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/ratelimit"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/webui"
)

// mailer builds the outbox of console mail: SMTP delivers when configured,
// otherwise messages stay in the outbox table for the super admin.
func (s *Server) mailer() *mail.Outbox {
	o := &mail.Outbox{Store: s.db, Now: s.opts.now, Logger: s.logger.With("component", "mail"), From: s.cfg.SMTP.From}
	if c := s.cfg.SMTP; c.Host != "" {
		o.Transport = &mail.SMTP{Host: c.Host, Port: c.Port, TLSMode: c.TLS, Username: c.Username, Password: c.Password}
	}
	return o
}

// mountConsole mounts the web console at /console. The router itself
// serves the console's in-process discovery reads (Endpoints tab).
func (s *Server) mountConsole(mux *http.ServeMux, mailDelivers bool, tokenFailures *ratelimit.Limiter) {
	(&console.Handler{
		Service: s.svc, Store: s.db, BaseURL: s.baseURL, Cookies: webui.CookiesFor(s.baseURL),
		Bootstrap: s.bootstrapCheck, TokenFailures: tokenFailures, Discovery: mux, MailDelivers: mailDelivers,
		Now: s.opts.now, Logger: s.logger.With("component", "console"),
	}).Mount(mux)
}

// bootstrapCheck accepts the configured admin token or the stored
// bootstrap token: the credential that may create the first console admin.
func (s *Server) bootstrapCheck(r *http.Request, token string) bool {
	if token == "" || len(token) > 1024 {
		return false
	}
	sum := sha256.Sum256([]byte(token))
	if s.cfg.AdminToken != "" {
		want := sha256.Sum256([]byte(s.cfg.AdminToken))
		if subtle.ConstantTimeCompare(sum[:], want[:]) == 1 {
			return true
		}
	}
	t, err := s.store.GetAdminTokenByHash(r.Context(), service.HashToken(token))
	return err == nil && t.ID == bootstrapTokenID
}

// cleanupConsole deletes console sessions past their idle or absolute
// timeout and expired "View secret" codes. The console refuses such rows
// anyway; deleting them keeps the tables small and leaves no dead session
// hashes behind.
func (s *Server) cleanupConsole(ctx context.Context) {
	now := s.opts.now()
	n, err := s.db.DeleteExpiredConsoleData(ctx, now.Add(-console.DefaultIdleTimeout), now.Add(-console.DefaultAbsoluteTimeout), now)
	if err != nil && ctx.Err() == nil {
		s.logger.Warn("cleanup of expired console sessions and codes failed", "error", err)
		return
	}
	s.logger.Debug("cleanup of expired console sessions and codes", "deleted", n)
}
