package dcr_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/cache"
	"github.com/latchkey/latchkey/internal/dcr"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/service/servicetest"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/storage/sqlstore"
)

const postgresEnv = "LATCHKEY_TEST_POSTGRES_DSN"

// forEachBackend runs fn on SQLite (a database file) and, when
// LATCHKEY_TEST_POSTGRES_DSN is set, on a fresh PostgreSQL schema, with
// the DSN that opens it: open it twice for two processes.
func forEachBackend(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, "sqlite:"+filepath.Join(t.TempDir(), "latchkey.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv(postgresEnv)
		if base == "" {
			t.Skipf("PostgreSQL run skipped: set %s", postgresEnv)
		}
		fn(t, postgresSchema(t, base))
	})
}

// postgresSchema creates a schema dropped when t ends and returns a DSN
// whose search_path selects it.
func postgresSchema(t *testing.T, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "lk_dcr_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// process is one Latchkey process of a test: its own connections to the
// database, its own cache (as `latchkey serve` has, without the change
// feed poller, so only its own writes invalidate it) and the registration
// endpoint.
type process struct {
	*env
	raw *sqlstore.Store
}

// newProcess opens dsn (migrating it when first) and serves the
// registration endpoint over a cached store, with the master key kr shared
// by every process. The first process creates the default workspace.
func newProcess(t *testing.T, dsn string, kr *secrets.Keyring, first bool, opts ...func(*dcr.Handler)) *process {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cached := cache.New(st, cache.Options{})
	km := signing.NewManager(cached, kr, signing.Options{
		Logger: slog.New(slog.DiscardHandler), MaxTokenTTL: func(string) time.Duration { return time.Hour },
	})
	d := service.DefaultDefaults()
	d.SigningAlg = oauth2.AlgES256
	svc := &service.Service{Store: cached, Keyring: kr, Keys: km, Defaults: d}
	if first {
		if _, err := svc.EnsureDefault(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateService(ctx, "default", service.ServiceInput{ID: "api", Name: "API", Identifier: "https://api.example",
			Scopes: []storage.Scope{{Name: "read"}, {Name: "write"}}}); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	h := &dcr.Handler{Service: svc, Store: cached, BaseURL: srv.URL}
	for _, o := range opts {
		o(h)
	}
	h.Mount(mux)
	return &process{env: &env{t: t, srv: srv, e: &servicetest.Env{Service: svc, Store: st, Keyring: kr, Keys: km}}, raw: st}
}

// newKeyring is a master key for the processes of one test.
func newKeyring(t *testing.T) *secrets.Keyring {
	t.Helper()
	kr, err := secrets.New(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return kr
}
