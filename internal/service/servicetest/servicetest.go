// Package servicetest builds a real service.Service for tests of the
// packages that sit on it (adminapi, dcr, the admin CLI): an in-memory
// SQLite sqlstore, a fresh keyring and a real signing manager.
package servicetest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

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
	svc.EncryptionKeys = &signing.EncryptionKeys{Store: st, Keyring: kr} // request object encryption keys
	if _, err := svc.EnsureDefault(ctx); err != nil {
		t.Fatalf("servicetest: default workspace: %v", err)
	}
	return &Env{Service: svc, Store: st, Keyring: kr, Keys: km}
}

// Lowest argon2id cost that service.VerifyPassword accepts (8 KiB, one
// pass, one lane).
const (
	cheapArgonMemoryKiB = 8
	cheapArgonTime      = 1
	cheapArgonThreads   = 1
)

// PasswordHash returns a PHC argon2id hash of password, in the format of
// service.HashPassword but at the lowest cost service.VerifyPassword
// accepts, for fixtures that sign in many times: verifying it takes
// microseconds where the production cost takes tens of milliseconds.
// Sign-in still runs the real verification, which reads the cost from the
// hash; hashes that Latchkey makes keep the production cost.
func PasswordHash(password string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, cheapArgonTime, cheapArgonMemoryKiB, cheapArgonThreads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, cheapArgonMemoryKiB, cheapArgonTime,
		cheapArgonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}
