// Package oidc holds the end-to-end tests of the authorization code flow
// and OpenID Connect, and the scripted browser they use.
//
// The only non-test code is Browser (browser.go): an HTTP client with a
// cookie jar that never follows redirects on its own, so that a test can
// assert every 302/303 and its Location, and that parses HTML forms with
// golang.org/x/net/html and submits them by field name. It is bound to the
// form field names and element ids documented in docs/authorization-flow.md
// (login-form, username, password, consent-form, consent-allow, ...) and to
// nothing else in the markup.
//
// The tests, all black-box over HTTP against a real server on 127.0.0.1:
//
//   - conformance_test.go: the OpenID Foundation's Basic OP plan
//     (oidcc-basic-certification-test-plan) ported module by module, one
//     test per static-client module named after it (TestOIDCC_server,
//     TestOIDCC_codereuse, ...), see ../../../../shared/CONFORMANCE.md.
//   - security_*_test.go: SECURITY.md groups E, F, G, H and K, one subtest
//     per row named with its ID.
//   - concurrency_test.go: G2 and H3 (one winner under 20 / 50 parallel
//     redemptions), in process and across two `latchkey serve` processes on
//     one PostgreSQL, and the SIGKILL test of reliability invariants 2 and 3.
//   - chromedp_test.go: a real chromium signs in and consents; the code is
//     exchanged with golang.org/x/oauth2 and PKCE and the ID token verified
//     with go-oidc. Skipped when /usr/bin/chromium is absent.
//   - node_test.go: the npm openid-client package (testdata/node) performs
//     discovery, the code flow with PKCE and a refresh over TLS with a test
//     CA. Skipped when node or the installed modules are missing; CI runs
//     `npm ci` in testdata/node first.
//
// Time is controlled through server.WithClock: tests that need "30 seconds
// later" (oidcc-codereuse-30seconds, code expiry, max_age=1) advance the
// server's clock instead of sleeping. Subprocess tests cannot, and use
// real time only where a module demands it.
//
// The servers, child processes, PostgreSQL schemas, the log check for
// secrets and chromium come from internal/e2e/e2etest, shared with
// internal/e2e.
//
// PostgreSQL variants and the multi-process tests read
// LATCHKEY_TEST_POSTGRES_DSN and are skipped, with a message, when it is
// unset. Screenshots and other artifacts go to LATCHKEY_TEST_ARTIFACTS
// when set, else to a temporary directory.
package oidc
