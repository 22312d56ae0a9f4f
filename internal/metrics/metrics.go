package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the server's Prometheus collectors.
type Metrics struct {
	registry      *prometheus.Registry
	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	tokensIssued  *prometheus.CounterVec
	tokenRequests *prometheus.CounterVec
	storageErrors prometheus.Counter
	canceled      *prometheus.CounterVec
}

// New creates the collectors in a fresh registry, together with the
// standard Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"endpoint", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "latchkey_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"endpoint"}),
		tokensIssued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_tokens_issued_total",
			Help: "Access tokens issued by grant type.",
		}, []string{"grant_type"}),
		tokenRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_token_requests_total",
			Help: "Token endpoint requests by grant type and outcome (success or an OAuth error code).",
		}, []string{"grant_type", "outcome"}),
		storageErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "latchkey_storage_errors_total",
			Help: "Storage operations that failed (not counting not-found and already-exists answers, nor calls of requests whose client went away).",
		}),
		canceled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_http_requests_canceled_total",
			Help: "HTTP requests by route pattern whose client went away before the answer.",
		}, []string{"endpoint"}),
	}
	m.registry.MustRegister(m.httpRequests, m.httpDuration, m.tokensIssued, m.tokenRequests, m.storageErrors, m.canceled,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry exposes the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// TokenIssued counts one access token issued with grantType.
func (m *Metrics) TokenIssued(grantType string) {
	if m == nil {
		return
	}
	m.tokensIssued.WithLabelValues(boundedLabel(grantType)).Inc()
}

// TokenRequest counts one token request and its outcome ("success" or an
// OAuth error code).
func (m *Metrics) TokenRequest(grantType, outcome string) {
	if m == nil {
		return
	}
	m.tokenRequests.WithLabelValues(boundedLabel(grantType), boundedLabel(outcome)).Inc()
}

// StorageError counts one failed storage operation.
func (m *Metrics) StorageError() {
	if m == nil {
		return
	}
	m.storageErrors.Inc()
}

// RequestCanceled counts one request whose client went away before the
// answer, by route pattern ("" for requests no route matched). Such a
// request is no failure of the server, so its storage calls are not
// counted as storage errors.
func (m *Metrics) RequestCanceled(endpoint string) {
	if m == nil {
		return
	}
	if endpoint == "" {
		endpoint = "unmatched"
	}
	m.canceled.WithLabelValues(endpoint).Inc()
}

// ObserveHTTP records one HTTP request. endpoint is the route pattern
// without its method ("" for requests no route matched).
func (m *Metrics) ObserveHTTP(endpoint, method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	if endpoint == "" {
		endpoint = "unmatched"
	}
	m.httpRequests.WithLabelValues(endpoint, boundedMethod(method), strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(endpoint).Observe(d.Seconds())
}

var standardMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// boundedMethod maps arbitrary request methods to "OTHER": methods are
// client input and must not mint label values.
func boundedMethod(m string) string {
	if standardMethods[m] {
		return m
	}
	return "OTHER"
}

// boundedLabel keeps grant types (including URNs) and error codes, and maps
// anything else to "other".
func boundedLabel(v string) string {
	if v == "" || len(v) > 64 {
		return "other"
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == ':' || c == '.') {
			return "other"
		}
	}
	return v
}
