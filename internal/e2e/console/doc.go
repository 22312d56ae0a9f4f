// Package console holds the end-to-end tests of the administration
// console in a real chromium. It has no production code: everything lives
// in _test files.
//
// Each test starts a server in this process on 127.0.0.1 (SQLite in a
// temporary directory) whose mail goes to a real SMTP listener
// (e2etest.Mailbox), sets up what it does not test through the admin REST
// API with the public adminclient package, and drives the console
// through headless Debian chromium with chromedp:
//
//   - TestBrowserSeedFlow walks the seed guide from the setup page to a
//     client_credentials token obtained with the secret the console
//     revealed after the code mailed to the client's contact.
//   - TestBrowserInitialAccessTokens creates an initial access token
//     (docs/security.md R2, console part).
//
// The tests are skipped when /usr/bin/chromium is absent. Screenshots go
// to LATCHKEY_TEST_ARTIFACTS/<test name> when the variable is set, else to
// a temporary directory. When a server stops, its log is searched for
// every secret the test handled (SECURITY.md Q6).
//
// The console's page-level tests, which need no browser, stay with the
// console in internal/console.
package console
