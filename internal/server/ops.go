package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// readyTimeout bounds the checks behind /readyz, so that a database that
// is locked by another writer or hung makes the probe fail quickly rather
// than hang (docs/security.md R7).
const readyTimeout = time.Second

// readyCacheFor is how long one readiness result answers every probe:
// load balancers, orchestrators and anyone else who can reach /readyz
// cannot turn it into a stream of write transactions.
const readyCacheFor = time.Second

// readyCache holds the latest readiness result. Its mutex is held during
// a check, so concurrent probes wait for the one check in progress and
// share its result.
type readyCache struct {
	mu     sync.Mutex
	at     time.Time // when the result was computed (zero: never)
	code   int
	reason string
}

// mountOps registers the operations endpoints. They carry no secrets and
// need no authentication; put /metrics behind the network boundary.
func (s *Server) mountOps(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", serveHealthz)
	mux.HandleFunc("GET /readyz", s.serveReadyz)
	mux.Handle("GET /metrics", s.metrics.Handler())
}

// serveHealthz answers while the process is alive and serving.
func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	writeStatus(w, http.StatusOK, "ok", "")
}

// serveReadyz answers 200 when a write to the database could start now and
// the default workspace has a usable signing key, 503 otherwise (the
// reason is generic: details go to the log). The result is reused for
// readyCacheFor.
func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	code, reason := s.readiness(r)
	status := "ok"
	if code != http.StatusOK {
		status = "unavailable"
	}
	writeStatus(w, code, status, reason)
}

// readiness returns the cached result, or checks again once it is older
// than readyCacheFor. Wall-clock time on purpose: the injectable clock of
// tests may stand still.
func (s *Server) readiness(r *http.Request) (int, string) {
	c := &s.ready
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < readyCacheFor {
		return c.code, c.reason
	}
	c.code, c.reason = s.checkReady(r)
	c.at = time.Now()
	return c.code, c.reason
}

// checkReady runs the checks. Its context does not follow the probing
// request's cancellation: the result is shared with other probes, and
// one caller hanging up must not make the server look unready to them.
// A probe write rather than a ping: a database another process keeps
// locked, a read-only one, or a full disk that refuses to start a write
// answers pings but cannot serve a token or an admin change.
func (s *Server) checkReady(r *http.Request) (int, string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), readyTimeout)
	defer cancel()
	if err := s.store.CheckWritable(ctx); err != nil {
		s.logger.WarnContext(ctx, "readiness: storage cannot be written", "error", err, "request_id", RequestID(r))
		return http.StatusServiceUnavailable, "storage cannot be written"
	}
	if _, err := s.keys.Signer(ctx, defaultWorkspace); err != nil {
		s.logger.WarnContext(ctx, "readiness: signing keys not loaded", "error", err, "request_id", RequestID(r))
		return http.StatusServiceUnavailable, "signing keys not loaded"
	}
	return http.StatusOK, ""
}

type statusBody struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func writeStatus(w http.ResponseWriter, code int, status, reason string) {
	oauth2.WriteJSON(w, code, statusBody{Status: status, Reason: reason})
}
