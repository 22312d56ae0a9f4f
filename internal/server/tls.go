package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/discovery"
	"github.com/latchkey/latchkey/internal/endpoint"
)

// CertReloadInterval is how often, at most, the TLS certificate and key
// files are checked for changes (modification time and size).
const CertReloadInterval = 2 * time.Second

// configureTLS finishes the TLS configuration of a server that speaks
// TLS itself: the certificate comes from certReloader, so a renewed pair
// is served without a restart, and client certificates are requested but
// not required (RFC 8705 §2: clients of other authentication methods still
// connect) and not verified by the TLS stack: Latchkey verifies them per
// client (clientauth), against tls.client_ca_file for tls_client_auth and
// the client's own keys for self_signed_tls_client_auth.
func (s *Server) configureTLS() error {
	cr, err := newCertReloader(s.cfg.TLS.CertFile, s.cfg.TLS.KeyFile, s.logger.With("component", "tls"))
	if err != nil {
		return err
	}
	s.http.TLSConfig.GetCertificate = cr.get
	s.http.TLSConfig.ClientAuth = tls.RequestClientCert
	return nil
}

// clientCertSource is where endpoints find the client certificate: the TLS
// connection, and a trusted proxy's header when one is configured.
func (s *Server) clientCertSource() *endpoint.ClientCertSource {
	src := &endpoint.ClientCertSource{}
	if p := s.cfg.TLS.Proxy; p != nil {
		src.Header, src.Trusted = p.Header, p.Trusted
	}
	return src
}

// discoveryMTLS is what discovery advertises of mutual TLS (RFC 8705):
// nothing when no client certificate can reach the server; aliases at
// tls.mtls_base_url when set, else at the base URL when the server itself
// requests client certificates (a proxy-only setup without
// tls.mtls_base_url publishes no aliases: the proxy's host is unknown).
func (s *Server) discoveryMTLS() *discovery.MTLS {
	switch {
	case s.cfg.TLS.MTLSBaseURL != "":
		return &discovery.MTLS{BaseURL: s.cfg.TLS.MTLSBaseURL}
	case s.cfg.TLS.Enabled():
		return &discovery.MTLS{BaseURL: s.baseURL}
	case s.cfg.TLS.Proxy != nil:
		return &discovery.MTLS{}
	}
	return nil
}

// clientCAs is the trust anchor set of tls_client_auth on direct TLS
// connections (tls.client_ca_file), reloaded like the server certificate
// when the file changes; nil when none is configured. A file that stops
// loading is logged and the previous set kept.
func (s *Server) clientCAs() func() *x509.CertPool {
	if s.cfg.TLS.ClientCAFile == "" {
		return nil
	}
	r := &caReloader{path: s.cfg.TLS.ClientCAFile, logger: s.logger.With("component", "tls"), now: time.Now}
	r.pool, r.stamp, _ = r.load()
	if r.pool == nil {
		s.logger.Error("cannot load tls.client_ca_file: tls_client_auth fails on direct TLS connections until it loads")
	}
	r.checkedAt = r.now()
	return r.get
}

// caReloader serves tls.client_ca_file, checking it for changes at most
// every CertReloadInterval.
type caReloader struct {
	path   string
	logger *slog.Logger
	now    func() time.Time

	mu        sync.Mutex
	pool      *x509.CertPool
	stamp     fileStamp
	checkedAt time.Time
}

func (r *caReloader) load() (*x509.CertPool, fileStamp, error) {
	fi, err := os.Stat(r.path)
	if err != nil {
		return nil, fileStamp{}, err
	}
	stamp := fileStamp{certMod: fi.ModTime(), certSize: fi.Size()}
	pool, err := config.LoadClientCAs(r.path)
	return pool, stamp, err
}

func (r *caReloader) get() *x509.CertPool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.checkedAt) < CertReloadInterval {
		return r.pool
	}
	r.checkedAt = now
	fi, err := os.Stat(r.path)
	if err == nil && (fileStamp{certMod: fi.ModTime(), certSize: fi.Size()}) == r.stamp {
		return r.pool
	}
	pool, stamp, err := r.load()
	if err != nil {
		r.logger.Error("tls.client_ca_file reload failed: keeping the current CAs", "error", err)
		return r.pool
	}
	r.pool, r.stamp = pool, stamp
	r.logger.Info("tls.client_ca_file reloaded", "file", r.path)
	return r.pool
}

// certReloader serves the certificate and key files and reloads them
// when they change, checking at most every CertReloadInterval. A new pair
// that does not load (half-written, mismatched) is logged and the previous
// one kept, so a botched renewal never takes the server down.
type certReloader struct {
	certFile, keyFile string
	logger            *slog.Logger
	now               func() time.Time

	mu        sync.Mutex
	cert      *tls.Certificate
	stamp     fileStamp
	checkedAt time.Time
}

// fileStamp identifies a version of the two files.
type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

func newCertReloader(certFile, keyFile string, logger *slog.Logger) (*certReloader, error) {
	cr := &certReloader{certFile: certFile, keyFile: keyFile, logger: logger, now: time.Now}
	stamp, err := cr.statFiles()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: load certificate and key: %w", err)
	}
	cr.cert, cr.stamp, cr.checkedAt = &cert, stamp, cr.now()
	return cr, nil
}

func (cr *certReloader) statFiles() (fileStamp, error) {
	c, err := os.Stat(cr.certFile)
	if err != nil {
		return fileStamp{}, err
	}
	k, err := os.Stat(cr.keyFile)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{certMod: c.ModTime(), keyMod: k.ModTime(), certSize: c.Size(), keySize: k.Size()}, nil
}

// get is tls.Config.GetCertificate.
func (cr *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	now := cr.now()
	if now.Sub(cr.checkedAt) < CertReloadInterval {
		return cr.cert, nil
	}
	cr.checkedAt = now
	stamp, err := cr.statFiles()
	if err != nil {
		cr.logger.Error("TLS certificate reload failed: keeping the current certificate", "error", err)
		return cr.cert, nil
	}
	if stamp == cr.stamp {
		return cr.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(cr.certFile, cr.keyFile)
	if err != nil {
		// Keep the stamp unchanged so the next check retries: the other
		// file of the pair may still be on its way.
		cr.logger.Error("TLS certificate reload failed: keeping the current certificate", "error", err)
		return cr.cert, nil
	}
	cr.cert, cr.stamp = &cert, stamp
	cr.logger.Info("TLS certificate reloaded", "cert_file", cr.certFile)
	return cr.cert, nil
}
