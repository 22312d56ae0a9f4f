package server

import (
	"github.com/latchkey/latchkey/internal/logoutchannel"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/ssrf"
)

// logoutDeliverer delivers the queued back-channel logout tokens (OpenID
// Connect Back-Channel Logout 1.0 §2.5) of every workspace through the
// SSRF-safe client (SECURITY.md L4-L7). Every process runs one; the
// queue's claims keep them from delivering a message twice.
func (s *Server) logoutDeliverer() *logoutchannel.Deliverer {
	return &logoutchannel.Deliverer{
		Store: s.store, Signers: s.keys, Subjects: &oidc.Subjects{Store: s.store},
		Client: ssrf.NewClient(s.outboundOptions()), BaseURL: s.baseURL,
		Logger: s.logger.With("component", "backchannel-logout"), Now: s.opts.now,
	}
}
