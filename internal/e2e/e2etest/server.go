package e2etest

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/server"
)

// StopTimeout bounds how long a stopping server, in process or child,
// may take.
const StopTimeout = 30 * time.Second

// Config is what LoadConfig needs beyond the defaults every test shares.
type Config struct {
	DataDir    string
	DSN        string // "" = SQLite in DataDir
	AdminToken string
	Flags      map[string]string // more `latchkey serve` flags, e.g. tls-cert
	Env        map[string]string // more LATCHKEY_* variables; they win over the defaults
}

// LoadConfig resolves the configuration the way `latchkey serve` does,
// from flags and a private environment, listening on 127.0.0.1:0. Every
// request of a test comes from 127.0.0.1 and many fail on purpose, so the
// failed-authentication budget is raised (the rate limiter has its own
// tests), and caches poll for changes every 100ms.
func LoadConfig(t testing.TB, c Config) config.Resolved {
	t.Helper()
	flags := map[string]string{"listen": "127.0.0.1:0", "data-dir": c.DataDir}
	if c.DSN != "" {
		flags["storage"] = c.DSN
	}
	maps.Copy(flags, c.Flags)
	env := map[string]string{
		"LATCHKEY_ADMIN_TOKEN":              c.AdminToken,
		"LATCHKEY_LIMITS_FAILED_AUTH_BURST": "100000",
		"LATCHKEY_CACHE_POLL_INTERVAL":      "100ms",
	}
	maps.Copy(env, c.Env)
	cfg, err := config.Load(config.Options{
		Flags:     flags,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		HomeDir:   func() (string, error) { return c.DataDir, nil },
	})
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	// The key scheduler is not under test here; keep it quiet.
	cfg.RotationCheckInterval = time.Hour
	return cfg
}

// Server is a server.New server running in this process.
type Server struct {
	BaseURL string // where it listens, e.g. http://127.0.0.1:41234
	stop    func(testing.TB)
}

// StartServer builds the server from cfg with the clock now and opts,
// writes its JSON log (debug level) and its stderr to logs, and runs it
// until Stop.
func StartServer(t testing.TB, cfg config.Resolved, now func() time.Time, logs io.Writer, opts ...server.Option) *Server {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := server.New(t.Context(), cfg, logger, append([]server.Option{server.WithStderr(logs), server.WithClock(now)}, opts...)...)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	s := &Server{BaseURL: srv.BaseURL()}
	s.stop = func(t testing.TB) {
		t.Helper()
		s.stop = func(testing.TB) {}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server Run: %v", err)
			}
		case <-time.After(StopTimeout):
			t.Errorf("server did not stop within %s", StopTimeout)
		}
	}
	return s
}

// Stop shuts the server down and requires Run to return nil within
// StopTimeout. Calling it again does nothing.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.stop(t)
}
