package grantstest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/cache"
	"github.com/latchkey/latchkey/internal/clientauth"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/storage/sqlstore"
)

// Clock is an adjustable clock: real time plus an offset, so tokens stay
// verifiable by libraries that read the wall clock.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now returns the current test time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Env is one test stack. Mount handlers on Mux; Server serves it.
type Env struct {
	// Store is the caching store the handlers use, as in production;
	// DB is the database behind it.
	Store   storage.Storage
	DB      *sqlstore.Store
	Keyring *secrets.Keyring
	Keys    *signing.Manager
	Auth    *clientauth.Authenticator
	Clock   *Clock
	Logger  *slog.Logger
	Mux     *http.ServeMux
	Server  *httptest.Server
	BaseURL string
}

// New builds an Env whose resources are released by t.Cleanup.
func New(t testing.TB) *Env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "latchkey.db"), nil)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	logger := slog.New(slog.DiscardHandler)
	store := cache.New(db, cache.Options{Logger: logger})
	kr, err := sharedKeyring()
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	e := &Env{Store: store, DB: db, Keyring: kr, Clock: &Clock{}, Logger: logger, Mux: http.NewServeMux()}
	e.Keys = signing.NewManager(store, kr, signing.Options{Now: e.Clock.Now, Logger: e.Logger})
	e.Auth = &clientauth.Authenticator{Store: store, Keyring: kr, Now: e.Clock.Now, Logger: e.Logger}
	e.Server = httptest.NewServer(e.Mux)
	t.Cleanup(e.Server.Close)
	e.BaseURL = e.Server.URL
	return e
}

// Issuer is the issuer URL of workspace ws.
func (e *Env) Issuer(ws string) string { return e.BaseURL + "/w/" + ws }

// Workspace creates an enabled workspace with signing keys of alg.
func (e *Env) Workspace(t testing.TB, id, alg string, settings storage.WorkspaceSettings) storage.Workspace {
	t.Helper()
	now := e.Clock.Now().UTC()
	settings.SigningAlg = alg
	ws := storage.Workspace{ID: id, Name: id, Enabled: true, Settings: settings, CreatedAt: now, UpdatedAt: now}
	if err := e.Store.CreateWorkspace(context.Background(), ws); err != nil {
		t.Fatalf("create workspace %s: %v", id, err)
	}
	e.ensureKeys(t, id, alg)
	return ws
}

// Service creates a service (resource server) with the given scopes.
func (e *Env) Service(t testing.TB, ws, id, identifier string, scopes ...string) {
	t.Helper()
	now := e.Clock.Now().UTC()
	svc := storage.Service{WorkspaceID: ws, ID: id, Name: id, Identifier: identifier, CreatedAt: now, UpdatedAt: now}
	for _, s := range scopes {
		svc.Scopes = append(svc.Scopes, storage.Scope{Name: s, Description: s})
	}
	if err := e.Store.CreateService(context.Background(), svc); err != nil {
		t.Fatalf("create service %s: %v", id, err)
	}
}

// Client creates c in workspace ws, filling the defaults of a confidential
// client_credentials client using client_secret_basic, and returns it with
// its generated secret ("" for public clients).
func (e *Env) Client(t testing.TB, ws string, c storage.Client) (storage.Client, string) {
	t.Helper()
	now := e.Clock.Now().UTC()
	c.WorkspaceID = ws
	c.Enabled = true
	c.Name = c.ID
	c.CreatedAt, c.UpdatedAt = now, now
	if c.Type == "" {
		c.Type = oauth2.ClientConfidential
	}
	if c.GrantTypes == nil {
		c.GrantTypes = []string{oauth2.GrantClientCredentials}
	}
	if c.TokenEndpointAuthMethod == "" {
		c.TokenEndpointAuthMethod = oauth2.AuthClientSecretBasic
	}
	var secret string
	if c.Type == oauth2.ClientConfidential {
		secret = NewSecret()
		ct, err := e.Keyring.Encrypt([]byte(secret), SecretAAD(ws, c.ID))
		if err != nil {
			t.Fatalf("encrypt secret: %v", err)
		}
		c.SecretCiphertext, c.SecretRotatedAt = ct, now
	}
	if err := e.Store.CreateClient(context.Background(), c); err != nil {
		t.Fatalf("create client %s: %v", c.ID, err)
	}
	return c, secret
}

// NewSecret returns a 256-bit random secret, base64url.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SecretAAD is the additional data of a client secret ciphertext
// (docs/architecture.md).
func SecretAAD(ws, clientID string) []byte {
	return []byte("client-secret\x00" + ws + "\x00" + clientID)
}
