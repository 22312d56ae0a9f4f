// Package server wires Latchkey together: it builds every component from a
// config.Resolved (storage, cache, master keyring, signing keys, service
// layer), mounts every HTTP package on one http.ServeMux, wraps it in the
// middleware every request passes (request id, access log, panic recovery,
// body size cap, security headers, metrics), adds the operations endpoints
// (/healthz, /readyz, /metrics), runs the background jobs (cache change
// poller, key rotation scheduler, expired-row cleanup) and shuts down
// gracefully.
//
// It holds no protocol logic of its own (Dex's server/server.go is the
// model: wiring only).
//
// The issuer of every workspace is derived from the configured base URL,
// never from the Host or X-Forwarded-* headers of a request (SECURITY.md
// J2): nothing in this package reads those headers.
package server
