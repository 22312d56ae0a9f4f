// Package grantstest builds a real, in-process Latchkey protocol stack for
// the black-box tests of the token, introspection, revocation and
// discovery endpoints: SQLite storage in a temporary directory, a master
// keyring, the signing manager and client authentication, behind an
// httptest server whose URL is the configured base URL. The Envs of one
// test binary share the keyring and reuse each other's signing keys
// (keys.go): key generation would otherwise dominate these tests' time.
//
// It is imported by tests only.
package grantstest
