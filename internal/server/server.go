package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/latchkey/latchkey/internal/cache"
	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/metrics"
	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/ssrf"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/storage/sqlstore"
)

// HTTP server limits (SECURITY.md M4): slow or oversized requests cannot
// hold a connection or memory for long.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 15 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 120 * time.Second
	MaxHeaderBytes    = 64 << 10
	// ShutdownTimeout bounds how long in-flight requests may finish after
	// a shutdown signal.
	ShutdownTimeout = 20 * time.Second
	// CleanupInterval is how often expired JTIs, revocation marks, initial
	// access tokens and old change events are deleted.
	CleanupInterval = 10 * time.Minute
)

// Server is a fully wired Latchkey server bound to its listener.
type Server struct {
	cfg      config.Resolved
	baseURL  string
	logger   *slog.Logger
	opts     options
	db       storage.Storage // the database, instrumented for metrics
	store    *cache.Store    // db behind the cache: what handlers use
	keyring  *secrets.Keyring
	keys     *signing.Manager
	svc      *service.Service
	metrics  *metrics.Metrics
	listener net.Listener
	handler  http.Handler
	http     *http.Server
	ready    readyCache // the latest /readyz result (ops.go)
	// requestKeys owns the workspaces' request object decryption keys
	// (RFC 9101 §6.1): the JWKS, the authorization endpoint and the admin
	// API share it, and change events drop its cache.
	requestKeys *signing.EncryptionKeys
}

// Option adjusts New; the defaults suit production.
type Option func(*options)

type options struct {
	stderr io.Writer
	now    func() time.Time
	// extraRoutes lets this package's tests mount handlers (slow or
	// panicking ones) behind the real middleware.
	extraRoutes func(*http.ServeMux)
	deadlines   requestDeadlines
}

// WithRequestDeadlines sets how long an admin API or console request
// (admin) and any other request (protocol) may take before its storage
// calls give up and it answers 503 (defaults AdminRequestDeadline and
// ProtocolRequestDeadline; tests use short ones).
func WithRequestDeadlines(admin, protocol time.Duration) Option {
	return func(o *options) { o.deadlines = requestDeadlines{admin: admin, protocol: protocol} }
}

// WithStderr sets where the one-time bootstrap admin token is printed
// (default os.Stderr).
func WithStderr(w io.Writer) Option { return func(o *options) { o.stderr = w } }

// WithClock sets the clock of every component (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New builds every component from cfg, brings the database schema up to
// date, makes sure the default workspace and its keys exist, creates the
// bootstrap admin credential when needed and binds the listener. The
// returned server is not serving yet: call Run. On error everything opened
// so far is closed again.
func New(ctx context.Context, cfg config.Resolved, logger *slog.Logger, opts ...Option) (*Server, error) {
	s := &Server{cfg: cfg, logger: logger, metrics: metrics.New(), opts: options{stderr: os.Stderr, now: time.Now,
		deadlines: requestDeadlines{admin: AdminRequestDeadline, protocol: ProtocolRequestDeadline}}}
	for _, o := range opts {
		o(&s.opts)
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	steps := []func(context.Context) error{
		s.prepareDataDir, s.selectCryptoBackend, s.openKeyring, s.openStorage, s.buildCore, s.ensureDefault, s.bootstrapAdmin, s.listen, s.buildHTTP,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			s.closeResources()
			return nil, err
		}
	}
	return s, nil
}

// prepareDataDir creates, with mode 0700, the directories the SQLite
// database and the master key file live in (by default both are in
// data_dir).
func (s *Server) prepareDataDir(context.Context) error {
	var dirs []string
	if s.cfg.StorageDriver == config.DriverSQLite && s.cfg.SQLitePath != ":memory:" {
		dirs = append(dirs, filepath.Dir(s.cfg.SQLitePath))
	}
	if len(s.cfg.MasterKeys) == 0 {
		dirs = append(dirs, filepath.Dir(s.cfg.MasterKeyFile))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("server: create data directory: %w", err)
		}
	}
	return nil
}

// openKeyring loads the master keys (SECURITY.md D8): inline keys from the
// configuration, or the key file, created with mode 0600 on first start.
func (s *Server) openKeyring(context.Context) error {
	if len(s.cfg.MasterKeys) > 0 {
		kr, err := secrets.New(s.cfg.MasterKeys...)
		if err != nil {
			return fmt.Errorf("server: master keys: %w", err)
		}
		s.keyring = kr
		return nil
	}
	kr, created, err := secrets.LoadOrCreate(s.cfg.MasterKeyFile)
	if err != nil {
		return fmt.Errorf("server: master key file: %w", err)
	}
	if created {
		s.logger.Info("created master key file; back it up: without it no client secret or signing key can be decrypted",
			"path", s.cfg.MasterKeyFile)
	}
	s.keyring = kr
	return nil
}

// openStorage connects and migrates (migrations are safe when several
// processes start at once; package sqlstore serializes them).
func (s *Server) openStorage(ctx context.Context) error {
	db, err := sqlstore.Open(ctx, s.cfg.Storage, s.logger.With("component", "storage"), sqlstore.WithClock(s.opts.now))
	if err != nil {
		return fmt.Errorf("server: open storage: %w", err)
	}
	s.logger.Info("storage ready", "driver", db.Flavor())
	s.db = metrics.InstrumentStorage(db, s.metrics)
	return nil
}

// selectCryptoBackend chooses who makes private-key signatures (the
// keys.crypto_backend setting) and says which in the log, with OpenSSL's
// version or the reason Go's crypto is used.
func (s *Server) selectCryptoBackend(context.Context) error {
	name, detail, err := signing.SelectBackend(s.cfg.CryptoBackend)
	if err != nil {
		return err
	}
	s.logger.Info("signing backend", "backend", name, "detail", detail)
	return nil
}

// buildCore wires cache, signing keys and the service layer.
func (s *Server) buildCore(context.Context) error {
	s.store = cache.New(s.db, cache.Options{PollInterval: s.cfg.CachePollInterval, MaxEntries: s.cfg.CacheMaxEntries, Logger: s.logger.With("component", "cache")})
	s.keys = signing.NewManager(s.store, s.keyring, signing.Options{
		Now: s.opts.now, Logger: s.logger,
		MaxTokenTTL: func(string) time.Duration { return service.MaxAccessTokenTTL },
	})
	// Another process may rotate keys or delete a workspace: drop the
	// cached signers so the next request reloads them.
	s.requestKeys = &signing.EncryptionKeys{Store: s.store, Keyring: s.keyring, Now: s.opts.now}
	s.store.OnChange(func(c storage.Change) {
		if c.Kind == storage.ChangeKeys || c.Kind == storage.ChangeWorkspace {
			s.keys.Invalidate(c.WorkspaceID)
			s.requestKeys.Invalidate(c.WorkspaceID)
		}
	})
	s.svc = &service.Service{
		Store: s.store, Keyring: s.keyring, Keys: s.keys, EncryptionKeys: s.requestKeys, Now: s.opts.now,
		Defaults: service.Defaults{
			AccessTokenTTL:       s.cfg.AccessTokenTTL,
			SigningAlg:           s.cfg.SigningAlg,
			MaxAssertionLifetime: service.DefaultDefaults().MaxAssertionLifetime,
			KeyRotationPeriod:    s.cfg.RotationPeriod,
		},
		ValidateURL: func(raw string, allowPrivate bool) error {
			return ssrf.ValidateURLWith(raw, ssrf.Options{AllowPrivate: allowPrivate, AllowHTTP: s.cfg.OutboundAllowHTTP})
		},
		AllowPrivateURLs: s.cfg.OutboundAllowPrivate,
		Logger:           s.logger.With("component", "service"),
	}
	s.svc.Mailer = s.mailer()
	s.svc.FetchSector = s.sectorFetcher()
	return nil
}

func (s *Server) ensureDefault(ctx context.Context) error {
	if _, err := s.svc.EnsureDefault(ctx); err != nil {
		return fmt.Errorf("server: default workspace: %w", err)
	}
	return nil
}

// listen binds the listener now, so that Addr is known before Run and a
// configured port 0 resolves to a real port. When base_url was not
// configured it follows the bound address.
func (s *Server) listen(context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Listen, err)
	}
	s.listener = ln
	s.baseURL = s.cfg.BaseURL
	if s.cfg.BaseURLDefaulted {
		s.baseURL = boundBaseURL(s.cfg, ln.Addr())
	}
	return nil
}

func boundBaseURL(cfg config.Resolved, addr net.Addr) string {
	scheme := "http://"
	if cfg.TLS.Enabled() {
		scheme = "https://"
	}
	host, _, _ := net.SplitHostPort(cfg.Listen)
	_, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return scheme + net.JoinHostPort(host, port)
}

func (s *Server) buildHTTP(context.Context) error {
	mux := http.NewServeMux()
	s.mountOps(mux)
	if err := s.mountHandlers(mux); err != nil {
		return err
	}
	if s.opts.extraRoutes != nil {
		s.opts.extraRoutes(mux)
	}
	s.handler = &middleware{next: mux, logger: s.logger, metrics: s.metrics, deadlines: s.opts.deadlines, clientCerts: s.clientCertSource()}
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig(),
	}
	if s.cfg.TLS.Enabled() {
		// RFC 8705: reloadable certificate, client certificates requested (tls.go).
		return s.configureTLS()
	}
	return nil
}

// Handler returns the complete HTTP handler (middleware, every endpoint),
// for in-process tests.
func (s *Server) Handler() http.Handler { return s.handler }

// Addr is the bound listen address, e.g. "127.0.0.1:43127".
func (s *Server) Addr() string { return s.listener.Addr().String() }

// BaseURL is the public base URL in use (the configured one, or the bound
// address when none was configured).
func (s *Server) BaseURL() string { return s.baseURL }

// Metrics returns the server's metrics.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// Close releases the listener and the database of a server whose Run was
// never called. Run closes them itself.
func (s *Server) Close() error {
	return s.closeResources()
}

func (s *Server) closeResources() error {
	var errs []error
	if s.listener != nil {
		if err := s.listener.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
		s.db = nil
	}
	return errors.Join(errs...)
}
