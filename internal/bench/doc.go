// Package bench measures Latchkey over HTTP the way an operator would: N
// concurrent clients drive a running server for a fixed duration and the
// result is reported as requests per second and p50/p90/p99 latency.
//
// Throughput of the token endpoint is bounded by signing, so every run also
// measures the raw signing rate of a key of the same algorithm on the same
// machine (all cores, no HTTP); the token rate is reported as a ratio to it,
// which makes figures comparable across machines. Scenarios that make
// several signatures per request (a refresh with an ID token, a code
// redemption, a signed-in code flow: grantscenarios.go) are read against
// the raw rate of all of them.
package bench
