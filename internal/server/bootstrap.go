package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// Bootstrap admin credential.
const (
	AdminTokenPrefix = "lka_"
	bootstrapTokenID = "bootstrap"
)

// NewAdminToken returns a fresh admin bearer token: "lka_" and 256 random
// bits, base64url.
func NewAdminToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return AdminTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// bootstrapAdmin makes sure somebody can use the admin API after the first
// start. A token given in the configuration (LATCHKEY_ADMIN_TOKEN) is
// accepted by the admin API as it is and nothing is generated; it replaces
// a token generated on an earlier start, which stops working
// (retireBootstrapToken): the operator who sets a token of their own
// expects the printed one to be void. Otherwise,
// when storage holds no admin token yet, one is generated, stored as its
// SHA-256 and printed once to stderr: it is never logged and cannot be
// shown again. The fixed ID makes the creation single-winner when several
// processes start at once; only the winner prints.
func (s *Server) bootstrapAdmin(ctx context.Context) error {
	if s.cfg.AdminToken != "" {
		return s.retireBootstrapToken(ctx)
	}
	existing, err := s.store.ListAdminTokens(ctx)
	if err != nil {
		return fmt.Errorf("server: list admin tokens: %w", err)
	}
	if len(existing) > 0 {
		return nil
	}
	token := NewAdminToken()
	err = s.store.CreateAdminToken(ctx, storage.AdminToken{
		ID: bootstrapTokenID, Name: "bootstrap (generated on first start)",
		Hash: service.HashToken(token), CreatedAt: s.opts.now().UTC(),
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("server: store bootstrap admin token: %w", err)
	}
	s.logger.Info("generated the bootstrap admin token and printed it once to stderr")
	_, err = fmt.Fprintf(s.opts.stderr, bootstrapMessage, token)
	return err
}

// retireBootstrapToken deletes the generated bootstrap token, if any,
// once a configured admin token replaces it. Scoped tokens created through
// the API are not touched.
func (s *Server) retireBootstrapToken(ctx context.Context) error {
	err := s.store.DeleteAdminToken(ctx, bootstrapTokenID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("server: remove the generated bootstrap admin token: %w", err)
	}
	s.logger.Warn("removed the admin token generated on the first start: admin.token (LATCHKEY_ADMIN_TOKEN) is configured and replaces it")
	return nil
}

const bootstrapMessage = `
================================================================================
 Latchkey generated an admin API token on this first start. It is shown ONLY
 THIS ONCE and stored only as a hash. Copy it now:

     LATCHKEY_ADMIN_TOKEN=%s

 Use it as "Authorization: Bearer <token>" on /admin/v1, or export it for
 "latchkey admin". To use a token of your own, set LATCHKEY_ADMIN_TOKEN
 (at least 32 characters) before starting the server.
================================================================================

`
