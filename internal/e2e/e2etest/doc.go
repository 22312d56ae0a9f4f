// Package e2etest is the support code of Latchkey's end-to-end tests
// (internal/e2e, internal/e2e/oidc, internal/e2e/console), also used by
// the console's package tests for their servers and mailbox. It is
// imported by tests only and holds no test of its own.
//
// It runs the server under test the two ways those tests need: in this
// process (LoadConfig, StartServer: server.New on 127.0.0.1:0, the log
// captured, an adjustable Clock) and as `latchkey serve` child processes
// (Fleet, Process: the binary built once per test binary, a shared master
// key and admin token, the address read from the "latchkey listening" log
// line, SIGTERM with exit status 0 required, SIGKILL on demand).
//
// Around the server it provides what every such test repeats: a fresh
// PostgreSQL schema per test from LATCHKEY_TEST_POSTGRES_DSN (skipped,
// with a message naming the variable, when unset), admin API requests,
// the SecretList that proves no secret a test handled reached a log
// (SECURITY.md Q6), a Mailbox (a real SMTP server that keeps what the
// server mailed), self-signed client certificates, and headless chromium
// through chromedp (skipped when /usr/bin/chromium is absent) with
// screenshots written under LATCHKEY_TEST_ARTIFACTS.
package e2etest
