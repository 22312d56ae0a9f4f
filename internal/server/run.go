package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/service"
)

// tlsConfig allows TLS 1.2 and later only; Go's default cipher suites
// for those versions are all AEAD with forward secrecy.
func tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12}
}

// Run serves until ctx ends (SIGTERM/SIGINT in the CLI) or serving fails,
// then shuts down gracefully: it stops accepting connections, lets
// in-flight requests finish for up to ShutdownTimeout, stops the
// background jobs and closes the database.
func (s *Server) Run(ctx context.Context) error {
	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	jobs := s.startJobs(jobsCtx)
	served := make(chan error, 1)
	go func() { served <- s.serve() }()
	s.logger.Info("latchkey listening", "addr", s.Addr(), "base_url", s.baseURL, "tls", s.cfg.TLS.Enabled())

	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
		err = s.shutdown()
		<-served
	}
	stopJobs()
	jobs.Wait()
	if cerr := s.closeResources(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	s.logger.Info("latchkey stopped")
	return err
}

func (s *Server) serve() error {
	var err error
	if s.cfg.TLS.Enabled() {
		err = s.http.ServeTLS(s.listener, "", "") // certificate from TLSConfig.GetCertificate (tls.go)
	} else {
		err = s.http.Serve(s.listener)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// shutdown stops accepting and waits for in-flight requests.
func (s *Server) shutdown() error {
	s.logger.Info("shutting down: finishing in-flight requests", "timeout", ShutdownTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		_ = s.http.Close()
		return err
	}
	return nil
}

// startJobs runs the background jobs until ctx ends.
func (s *Server) startJobs(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() { s.store.Run(ctx) })
	wg.Go(func() { s.keys.RunScheduler(ctx, s.cfg.RotationCheckInterval, s.rotationPeriod) })
	wg.Go(func() { s.cleanupLoop(ctx) })
	wg.Go(func() { s.logoutDeliverer().Run(ctx) })
	return &wg
}

// rotationPeriod is a workspace's scheduled rotation period (0: never).
// The service layer stores it filled in, so the cached workspace is enough.
func (s *Server) rotationPeriod(wsID string) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	w, err := s.store.GetWorkspace(ctx, wsID)
	if err != nil {
		return 0
	}
	return w.Settings.KeyRotationPeriod
}

// cleanupLoop deletes expired single-use and revocation rows.
func (s *Server) cleanupLoop(ctx context.Context) {
	t := time.NewTicker(CleanupInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.cleanup(ctx)
		}
	}
}

func (s *Server) cleanup(ctx context.Context) {
	n, err := s.store.DeleteExpired(ctx, s.opts.now())
	if err != nil && ctx.Err() == nil {
		s.logger.Warn("cleanup of expired rows failed", "error", err)
		return
	}
	s.logger.Debug("cleanup of expired rows", "deleted", n)
	s.cleanupAuthFlow(ctx)
	s.cleanupConsole(ctx)
}

// defaultWorkspace is checked by readiness and named in logs.
const defaultWorkspace = service.DefaultWorkspaceID
