package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// Error codes of the admin API.
const (
	codeInvalidRequest = "invalid_request"
	codeUnauthorized   = "invalid_token"
	codeNotFound       = "not_found"
	codeConflict       = "conflict"
	codeTooLarge       = "request_too_large"
	codeUnsupported    = "unsupported_media_type"
	codeServerError    = "server_error"
	// codeUnavailable is the OAuth endpoints' code for the same condition
	// (RFC 6749 §4.1.2.1 temporarily_unavailable), so one client library
	// can handle both APIs.
	codeUnavailable = "temporarily_unavailable"
)

// retryAfterSeconds is the Retry-After of a storage failure: long enough
// for a lock held by another writer to clear, short enough that a retrying
// client is not held up when the database recovers.
const retryAfterSeconds = "2"

// errorBody is the JSON body of every error response.
type errorBody = adminclient.APIError

// fieldErrors are the service's validation errors as the API lists them.
func fieldErrors(list []service.FieldError) []adminclient.FieldError {
	out := make([]adminclient.FieldError, len(list))
	for i, fe := range list {
		out[i] = adminclient.FieldError(fe)
	}
	return out
}

// httpError is an error the handler already classified.
type httpError struct {
	status int
	code   string
	desc   string
}

func (e *httpError) Error() string { return e.code + ": " + e.desc }

func badRequest(desc string) error {
	return &httpError{status: http.StatusBadRequest, code: codeInvalidRequest, desc: desc}
}

// writeError maps err to a status and body. Internal errors are logged and
// answered with a generic 500: their text never reaches the wire.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := h.classify(r, err)
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="latchkey-admin"`)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	writeJSON(w, status, body)
}

func (h *Handler) classify(r *http.Request, err error) (int, errorBody) {
	var he *httpError
	var ve *service.ValidationError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.status, errorBody{Code: he.code, Description: he.desc}
	case errors.As(err, &ve):
		return http.StatusBadRequest, errorBody{Code: codeInvalidRequest, Description: ve.Error(), Errors: fieldErrors(ve.Errors)}
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, errorBody{Code: codeTooLarge, Description: "request body exceeds 1 MiB"}
	case errors.Is(err, service.ErrNotFound):
		return http.StatusNotFound, errorBody{Code: codeNotFound, Description: service.PublicMessage(err)}
	case errors.Is(err, service.ErrConflict):
		return http.StatusConflict, errorBody{Code: codeConflict, Description: service.PublicMessage(err)}
	case isUnavailable(err):
		// The database is locked, unreachable or slower than the request's
		// deadline; the failed write was rolled back (docs/security.md R5,
		// R6).
		h.logger().WarnContext(r.Context(), "admin api: storage unavailable",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
		return http.StatusServiceUnavailable, errorBody{Code: codeUnavailable,
			Description: "the database is temporarily unavailable and the request could not be completed; try again after the time in Retry-After"}
	}
	h.logger().ErrorContext(r.Context(), "admin api: internal error",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	return http.StatusInternalServerError, errorBody{Code: codeServerError, Description: "the server could not complete the request"}
}

// isUnavailable reports a storage failure that a retry may fix: the
// sentinel of the storage layer, or the request's own deadline passing
// outside it.
func isUnavailable(err error) bool {
	return errors.Is(err, storage.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// writeJSON writes v with no-store caching: admin responses can carry
// client secrets and tokens.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}
