// Package servicetest builds a real service.Service for tests of the
// packages that sit on it (adminapi, dcr, the admin CLI): an in-memory
// SQLite sqlstore, a fresh keyring and a real signing manager.
package servicetest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/storage/sqlstore"
)

// Env is a service with the parts tests need to reach.
type Env struct {
	Service *service.Service
	Store   *sqlstore.Store
	Keyring *secrets.Keyring
	Keys    *signing.Manager
}

// New returns a service over a private in-memory database with the
// "default" workspace created. Workspaces default to ES256 keys, which are
// much faster to generate than RSA keys.
func New(t testing.TB) *Env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite::memory:", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("servicetest: open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	kr, err := secrets.New(secrets.GenerateKey())
	if err != nil {
		t.Fatalf("servicetest: keyring: %v", err)
	}
	km := signing.NewManager(st, kr, signing.Options{
		Logger:      slog.New(slog.DiscardHandler),
		MaxTokenTTL: func(string) time.Duration { return time.Hour },
	})
	d := service.DefaultDefaults()
	d.SigningAlg = oauth2.AlgES256
	svc := &service.Service{Store: st, Keyring: kr, Keys: km, Defaults: d}
	if _, err := svc.EnsureDefault(ctx); err != nil {
		t.Fatalf("servicetest: default workspace: %v", err)
	}
	return &Env{Service: svc, Store: st, Keyring: kr, Keys: km}
}
