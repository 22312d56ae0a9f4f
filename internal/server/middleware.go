package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/metrics"
	"github.com/latchkey/latchkey/internal/oauth2"
)

// Body size caps (SECURITY.md M1, M5). Protocol endpoints take small forms;
// the admin API takes JSON documents and applies its own, equal cap.
const (
	MaxProtocolBody = 64 << 10
	MaxAdminBody    = 1 << 20
	adminPrefix     = "/admin/"
	consolePrefix   = "/console"
)

// Request deadlines (docs/security.md R6). Every storage call runs under
// the request's context, so these bound how long a request may wait for
// the database (another process holding SQLite's write lock, a PostgreSQL
// row lock, a lost connection) before it answers 503; a write that has not
// committed by then is rolled back, never committed after the answer.
// The admin API and console get longer, for their larger writes; the
// protocol endpoints' deadline still covers the SSRF client's 5 s fetch
// of a jwks_uri (ssrf.DefaultTimeout) with room for the database. Both
// stay below WriteTimeout so the 503 reaches the client.
const (
	AdminRequestDeadline    = 10 * time.Second
	ProtocolRequestDeadline = 8 * time.Second
)

// requestDeadlines are the deadlines the middleware applies (zero: none).
type requestDeadlines struct {
	admin, protocol time.Duration
}

// forPath picks the deadline of a request path.
func (d requestDeadlines) forPath(path string) time.Duration {
	if strings.HasPrefix(path, adminPrefix) || path == consolePrefix || strings.HasPrefix(path, consolePrefix+"/") {
		return d.admin
	}
	return d.protocol
}

// RequestID returns the request id the middleware assigned to r ("" when
// r did not pass through it): endpoint.RequestID, which handler packages
// read too, so that their logs carry the same id as the access log.
func RequestID(r *http.Request) string { return endpoint.RequestID(r) }

// middleware is the one wrapper around the mux. It is a single function
// rather than a chain so that the *http.Request the mux fills in (its
// Pattern) is the one the access log and metrics read afterwards.
type middleware struct {
	next      http.Handler
	logger    *slog.Logger
	metrics   *metrics.Metrics
	deadlines requestDeadlines
	// clientCerts finds the mutual TLS client certificate (RFC 8705).
	clientCerts *endpoint.ClientCertSource
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := endpoint.AssignRequestID(r.Header.Get(endpoint.RequestIDHeader))
	ctx := endpoint.WithRequestID(r.Context(), id)
	ctx = m.clientCerts.Presented(ctx, r) // RFC 8705 §2: the client certificate, proxy header stripped unless trusted
	if d := m.deadlines.forPath(r.URL.Path); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	r = r.WithContext(ctx)
	rec := &recorder{ResponseWriter: w, req: r}
	setSecurityHeaders(rec.Header(), id)
	defer m.finish(rec, r, start)
	if cors(rec, r) || !limitBody(rec, r) || !singleAuthorization(rec, r) {
		return
	}
	m.next.ServeHTTP(rec, r)
}

// singleAuthorization refuses a request with more than one Authorization
// header field: the field is a singleton (RFC 9110 §5.3, §11.6.2), and an
// endpoint reading only the first would authenticate one of two
// credentials the sender did not choose between (RFC 6749 §2.3: a client
// uses one authentication method per request). Every route shares the
// rule: token, UserInfo, the admin API.
func singleAuthorization(w http.ResponseWriter, r *http.Request) bool {
	if len(r.Header.Values("Authorization")) <= 1 {
		return true
	}
	oauth2.WriteError(w, oauth2.NewError(oauth2.ErrInvalidRequest, "the request has more than one Authorization header; send one"))
	return false
}

// finish recovers a panic, then records the request in the access log and
// the metrics. It runs deferred so that a panicking handler is logged too.
// A request whose client went away before the answer is counted apart
// (latchkey_http_requests_canceled_total): it is no failure of the server.
func (m *middleware) finish(rec *recorder, r *http.Request, start time.Time) {
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler { //nolint:errorlint // sentinel compared by identity, as net/http does
			panic(p)
		}
		m.logger.LogAttrs(r.Context(), slog.LevelError, "handler panic",
			slog.String("request_id", RequestID(r)), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
		if !rec.wroteHeader {
			// A JSON server_error with a generic text: no panic value or
			// stack trace reaches the wire.
			oauth2.WriteError(rec, oauth2.NewError(oauth2.ErrServerError, "the server could not complete the request"))
		}
	}
	route := routeOf(r.Pattern)
	d := time.Since(start)
	m.metrics.ObserveHTTP(route, r.Method, rec.status(), d)
	attrs := []slog.Attr{slog.String("request_id", RequestID(r)), slog.String("method", r.Method),
		slog.String("route", route), slog.Int("status", rec.status()),
		slog.Int64("bytes", rec.bytes), slog.Duration("duration", d)}
	if endpoint.ClientGone(r.Context()) {
		m.metrics.RequestCanceled(route)
		attrs = append(attrs, slog.Bool("canceled", true))
	}
	m.logger.LogAttrs(r.Context(), slog.LevelInfo, "http request", attrs...)
}

// routeOf strips the method from a ServeMux pattern ("POST /w/{ws}/x" →
// "/w/{ws}/x"). Patterns are bounded, unlike raw paths, so they are safe as
// log fields and metric labels and never carry query strings.
func routeOf(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return pattern[i+1:]
	}
	return pattern
}

func setSecurityHeaders(h http.Header, id string) {
	h.Set(endpoint.RequestIDHeader, id)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// limitBody caps the request body (SECURITY.md M1): a declared length over
// the cap is refused at once with 413, before any handler reads; a body
// without a declared length is wrapped so that reading past the cap fails.
func limitBody(w http.ResponseWriter, r *http.Request) bool {
	limit, admin := int64(MaxProtocolBody), strings.HasPrefix(r.URL.Path, adminPrefix)
	if admin {
		limit = MaxAdminBody
	}
	if r.ContentLength > limit {
		w.Header().Set("Connection", "close")
		code := oauth2.ErrInvalidRequest
		if admin {
			code = "request_too_large" // the admin API's code for a body over its cap, declared or not
		}
		oauth2.WriteError(w, oauth2.NewError(code, fmt.Sprintf("request body too large (at most %d bytes)", limit)).
			WithStatus(http.StatusRequestEntityTooLarge))
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return true
}

// recorder remembers the status and size of a response, and turns the
// router's plain-text 404 and 405 into JSON errors where the path answers
// JSON (unrouted.go).
type recorder struct {
	http.ResponseWriter
	req         *http.Request
	code        int
	bytes       int64
	wroteHeader bool
	swallow     bool // the router's plain-text body after unroutedAnswer
}

func (r *recorder) WriteHeader(code int) {
	if r.wroteHeader {
		r.ResponseWriter.WriteHeader(code)
		return
	}
	r.code, r.wroteHeader = code, true
	if r.req != nil && unroutedAnswer(countingWriter{r}, r.req, code) {
		r.swallow = true
		return
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	if r.swallow {
		return len(b), nil
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// countingWriter writes to the recorder's writer and counts the bytes,
// for the JSON body unroutedAnswer writes in place of the router's.
type countingWriter struct{ r *recorder }

func (c countingWriter) Header() http.Header  { return c.r.ResponseWriter.Header() }
func (c countingWriter) WriteHeader(code int) { c.r.ResponseWriter.WriteHeader(code) }
func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.r.ResponseWriter.Write(b)
	c.r.bytes += int64(n)
	return n, err
}

func (r *recorder) status() int {
	if !r.wroteHeader {
		return http.StatusOK
	}
	return r.code
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
