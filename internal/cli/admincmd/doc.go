// Package admincmd is the "latchkey admin" command tree. It drives the
// admin REST API over HTTP only (it never opens the database), so it works
// against any running server: point it at one with --server and --token
// (or LATCHKEY_SERVER and LATCHKEY_ADMIN_TOKEN).
//
// Every command prints a table by default; --output json prints the API's
// JSON response unchanged, for scripts.
package admincmd
