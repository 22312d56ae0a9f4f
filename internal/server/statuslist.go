package server

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/introspect"
	"github.com/latchkey/latchkey/internal/statuslist"
	"github.com/latchkey/latchkey/internal/statuslist/publish"
)

// statusLists wires the Token Status List (draft-ietf-oauth-status-list):
// the published lists at /w/{ws}/statuslists/{list}, the token endpoint's
// index allocator (blocks reserved ahead: no write per token) and the
// revocation endpoint's bit setting, which rebuilds this process's lists
// at once (other processes within the publisher's rebuild interval).
func (s *Server) statusLists(mux *http.ServeMux) (grants.StatusDeps, introspect.StatusDeps) {
	pub := &publish.Publisher{
		Store: s.store, Keys: s.keys, BaseURL: s.baseURL, Now: s.opts.now,
		Logger: s.logger.With("component", "statuslist"),
	}
	pub.Mount(mux)
	return grants.StatusDeps{Allocator: &statuslist.Allocator{Store: s.store}, Families: s.store},
		introspect.StatusDeps{Store: s.store, Invalidate: pub.Invalidate}
}
