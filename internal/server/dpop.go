package server

import "github.com/latchkey/latchkey/internal/dpop"

// dpopVerifier checks DPoP proofs (RFC 9449) for the token endpoint and
// UserInfo: jti replay through the shared store, nonces keyed by a secret
// derived from the master keyring, so any process accepts another's.
func (s *Server) dpopVerifier() *dpop.Verifier {
	return &dpop.Verifier{
		Store:  s.store,
		Nonces: &dpop.Nonces{Secret: s.keyring.DeriveSecret("dpop-nonce")},
		Now:    s.opts.now,
	}
}
