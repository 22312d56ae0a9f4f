package server

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/ciba"
	"github.com/latchkey/latchkey/internal/clientauth"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/ssrf"
	"github.com/latchkey/latchkey/internal/webui"
)

// cibaHandler is the backchannel authentication handler (OpenID Connect
// CIBA Core 1.0, package ciba): the endpoint authenticates clients with
// the token endpoint's authenticator, the approval page uses the sign-in
// sessions and the same policy engine, the link goes through the mail
// outbox, and ping notifications through the SSRF-safe client.
func (s *Server) cibaHandler(auth *clientauth.Authenticator, policies policy.Checker) *ciba.Handler {
	return &ciba.Handler{
		Store: s.store, Auth: auth, Keys: s.keys, BaseURL: s.baseURL, Now: s.opts.now,
		Sessions: &webui.Sessions{Cookies: webui.CookiesFor(s.baseURL), Store: s.store, Now: s.opts.now},
		Logger:   s.logger.With("component", "ciba"), Policies: policies,
		Mailer: s.mailer(), Notifier: ssrf.NewClient(s.outboundOptions()), Sealer: s.keyring,
	}
}

// mountCIBA mounts POST /w/{ws}/oauth2/bc-authorize and the approval page.
func (s *Server) mountCIBA(mux *http.ServeMux, auth *clientauth.Authenticator, policies policy.Checker) {
	s.cibaHandler(auth, policies).Mount(mux)
}

// cibaPending lists a user's pending requests for the account page.
func (s *Server) cibaPending(w http.ResponseWriter, r *http.Request, wsID, userID string) (any, error) {
	h := &ciba.Handler{Store: s.store, BaseURL: s.baseURL, Now: s.opts.now,
		Sessions: &webui.Sessions{Cookies: webui.CookiesFor(s.baseURL), Store: s.store, Now: s.opts.now}}
	return h.PendingFor(w, r, wsID, userID)
}
