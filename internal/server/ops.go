package server

import (
	"context"
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// readyTimeout bounds the checks behind /readyz so that a hung database
// makes the probe fail rather than hang.
const readyTimeout = 2 * time.Second

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

// serveReadyz answers 200 when the database is reachable and the default
// workspace has a usable signing key, 503 otherwise (the reason is
// generic: details go to the log).
func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.logger.WarnContext(ctx, "readiness: storage unreachable", "error", err, "request_id", RequestID(r))
		writeStatus(w, http.StatusServiceUnavailable, "unavailable", "storage unreachable")
		return
	}
	if _, err := s.keys.Signer(ctx, defaultWorkspace); err != nil {
		s.logger.WarnContext(ctx, "readiness: signing keys not loaded", "error", err, "request_id", RequestID(r))
		writeStatus(w, http.StatusServiceUnavailable, "unavailable", "signing keys not loaded")
		return
	}
	writeStatus(w, http.StatusOK, "ok", "")
}

type statusBody struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func writeStatus(w http.ResponseWriter, code int, status, reason string) {
	oauth2.WriteJSON(w, code, statusBody{Status: status, Reason: reason})
}
