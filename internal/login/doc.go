// Package login serves the user-facing pages around the authorization
// code flow (docs/authorization-flow.md): the sign-in page (GET and POST
// /w/{ws}/login), the account page (GET and POST /w/{ws}/account:
// connected apps with consent revocation, password change, sign-out) and
// the set-password page of e-mailed links (GET and POST
// /w/{ws}/password/set).
//
// # Sign-in (SECURITY.md K1, K4, K7, K8, N3; docs/security.md R9, R10)
//
// A sign-in needs the CSRF token of the browser (package webui). Failed
// sign-ins are counted in the database, per source address and per
// account; only failures count, so people signing in successfully are
// never slowed down, however many share one NAT address. Before the
// password is checked the counters are read (not written): when a pause is
// due the answer is 429 with Retry-After and no password is checked. Each
// counter lets a few failures through (5 per account name, 200 per address
// in 15 minutes) and then requires a growing pause (1 s, 2 s, 4 s, ... up
// to a cap) before the next attempt. A failure is one locked
// read-modify-write of every counter of the attempt. So that parallel
// guesses cannot all read a counter before any failure is written, at most
// as many attempts per counter are checked at once in a process as it has
// free failures left (at least one); the others wait for them, then read
// the counter again. A delay rather than a lockout keeps an attacker from
// locking a user out for long. Unknown users, users without a password,
// disabled and service users get exactly the same answer as a wrong
// password, after the same argon2id work (a dummy hash), and are counted
// alike.
//
// A successful sign-in forgets the failures of the account counter it was
// checked against (a write only when there were some), costs the address
// counter nothing, creates a new session (deleting any previous one of the
// browser) and answers 303.
//
// Device cookies (OWASP Authentication Cheat Sheet, "device cookies"): a
// successful sign-in also gives the browser a cookie __Host-lk_d_{ws}
// (Secure, HttpOnly, SameSite=Lax, one year; named and flagged by
// webui.Cookies, so lk_d_{ws} without Secure on an http base URL) naming
// the user and a random device ID, sealed with the master keyring (AES-GCM, bound to the
// workspace), so it cannot be forged or moved to another account. An
// attempt for that user from a browser presenting it is counted on the
// device's own counter (5 failures a day) instead of the account name's,
// so failures from unknown browsers cannot hold the real user at 429. A
// device that has used up its failures loses its cookie and is counted as
// an unknown browser again. A cookie for another user, another workspace,
// or one that does not open, is ignored.
//
// Counters are shared by all processes through the database; the in-flight
// bound is per process (SECURITY.md N4).
//
// Passwords are argon2id PHC strings (service.HashPassword), stored apart
// from the user record (storage.UserPassword).
package login
