package endpoint

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// RequestIDHeader carries a request's ID in both directions.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds a request ID taken from a client's header.
const maxRequestIDLen = 128

type requestIDKey struct{}

// AssignRequestID keeps a caller's X-Request-Id when it is short and made
// of safe characters (it ends up in logs), and otherwise makes a new one.
func AssignRequestID(given string) string {
	if given != "" && len(given) <= maxRequestIDLen && safeID(given) {
		return given
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func safeID(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c)) {
			return false
		}
	}
	return true
}

// WithRequestID returns ctx carrying the request ID id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFromContext returns the request ID the server middleware
// assigned ("" outside a request that passed through it).
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestID returns the request ID of r (RequestIDFromContext).
func RequestID(r *http.Request) string { return RequestIDFromContext(r.Context()) }

// RemoteIP is the peer address of r, the per-IP rate-limit key. It reads
// RemoteAddr only: forwarded headers are attacker input unless a
// trusted-proxy middleware has already rewritten RemoteAddr (SECURITY.md J2).
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// MethodNotAllowed answers any method but POST on a POST-only endpoint:
// 405 with Allow: POST and a JSON invalid_request body (SECURITY.md Q1).
func MethodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", http.MethodPost)
	oauth2.WriteError(w, oauth2.NewError(oauth2.ErrInvalidRequest, "the endpoint accepts POST only").WithStatus(http.StatusMethodNotAllowed))
}
