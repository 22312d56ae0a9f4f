// Package lke2e holds the end-to-end tests of internal/oauthclient and of
// the "latchkey token" and "latchkey keys" commands against a real
// Latchkey server started in process on loopback (SQLite in a temporary
// directory). They live apart from the client library so that its own
// tests never depend on the server building.
//
//   - e2e_test.go: client_credentials with every client authentication
//     method, and Latchkey's errors shown as they came.
//   - jwtbearer_test.go: "keys new" output uploaded as a client
//     certificate, "token jwt" (RFC 7523) from the JKS and the PKCS#12,
//     assertion-only and with client id + secret, and the error hints
//     against Latchkey's own error_description texts.
//   - code_test.go: "token code --no-browser" and "token get" of a code
//     connection, driven by a scripted browser (internal/e2e/oidc) through
//     Latchkey's sign-in and consent pages; ID tokens and access tokens
//     verified with go-oidc; refresh token rotation; cache and refresh with
//     a 60 s access token on a clock shared by server and CLI.
//   - proxy_test.go: the explicit proxy, loopback included, and CONNECT.
package lke2e
