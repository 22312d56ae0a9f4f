// Package lke2e holds the end-to-end tests of internal/oauthclient against
// a real Latchkey server started in process on loopback. They live apart
// from the client library so that its own tests never depend on the server
// building. The JWT bearer and authorization code grants are not in the
// server yet; their tests run against oauthclient/oauthtest until then.
package lke2e
