package server

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/clientauth"
	"github.com/latchkey/latchkey/internal/device"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/webui"
)

// mountDevice mounts the device authorization endpoint and the device page
// (RFC 8628, package device). The endpoint authenticates clients with the
// token endpoint's authenticator; the page uses the sign-in sessions of the
// authorization flow and the same policy engine.
func (s *Server) mountDevice(mux *http.ServeMux, auth *clientauth.Authenticator, policies policy.Checker) {
	(&device.Handler{
		Store: s.store, Auth: auth, BaseURL: s.baseURL, Now: s.opts.now,
		Sessions: &webui.Sessions{Cookies: webui.CookiesFor(s.baseURL), Store: s.store, Now: s.opts.now},
		Logger:   s.logger.With("component", "device"), Policies: policies,
	}).Mount(mux)
}
