// Package e2e holds Latchkey's black-box end-to-end tests. It has no production code: everything lives in _test files.
//
// Every test starts a real server on a loopback port and drives it only
// through HTTP, with the clients a new user would pick: the admin REST API
// with a bearer token, golang.org/x/oauth2/clientcredentials for
// client_secret_basic and client_secret_post, go-jose for private_key_jwt
// and client_secret_jwt assertions, and github.com/coreos/go-oidc/v3 to
// verify access tokens against the published JWKS.
//
// Backends: each test runs against SQLite in a temporary directory, and
// again against PostgreSQL in a fresh schema (created and dropped by the
// test) when LATCHKEY_TEST_POSTGRES_DSN is set, e.g.
//
//	LATCHKEY_TEST_POSTGRES_DSN='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' go test ./internal/e2e/
//
// In-process servers are built with server.New and run with Run. The
// multi-process test (reliability invariants 4 and 6) builds the latchkey
// binary once and starts two `latchkey serve` processes on one PostgreSQL
// schema; it is skipped when no PostgreSQL is configured.
//
// Each server's log output is captured. When a server stops, its log is
// searched for every client secret, access token, admin token, initial
// access token and registration access token the test saw (SECURITY.md Q6):
// finding one fails the test.
//
// The harness these tests share with internal/e2e/oidc and
// internal/e2e/console (servers in process and as child processes, PostgreSQL
// schemas, the Q6 log check, chromium) is in internal/e2e/e2etest.
//
// Test names and comments cite the SECURITY.md rows they prove (B7, J1,
// J3, O1-O3, O6, P2, P4, P5, Q1-Q3, Q6, L1/L2).
package e2e
