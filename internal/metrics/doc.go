// Package metrics holds Latchkey's Prometheus metrics in one small struct
// that the server creates and hands to the packages that record events
// (the token endpoint records TokenIssued and TokenRequest; the server's
// middleware records HTTP requests, and apart from them the requests
// whose client went away; InstrumentStorage counts storage errors, but not
// the calls of such requests).
//
// Each Metrics owns its own prometheus.Registry rather than the global
// default, so several servers can run in one test process. Every method is
// safe on a nil *Metrics (it does nothing), so a metrics field is optional.
//
// Label values are bounded (SECURITY.md M, cardinality as a DoS vector):
// endpoints are route patterns, methods are the standard ones, and
// free-text values that do not look like a grant type or an error code are
// recorded as "other".
package metrics
