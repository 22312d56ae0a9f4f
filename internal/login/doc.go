// Package login serves the user-facing pages around the authorization
// code flow (docs/authorization-flow.md): the sign-in page (GET and POST
// /w/{ws}/login), the account page (GET and POST /w/{ws}/account:
// connected apps with consent revocation, password change, sign-out) and
// the set-password page of e-mailed links (GET and POST
// /w/{ws}/password/set).
//
// # Sign-in (SECURITY.md K1, K4, K7, K8, N3)
//
// A sign-in needs the CSRF token of the browser (package webui). Before
// the password is checked, one attempt is taken from two counters in the
// database, one for the account name as typed and one for the source
// address; each counter lets a few attempts through and then requires a
// growing pause (1 s, 2 s, 4 s, ... up to a cap) before the next. Taking
// an attempt is one locked read-modify-write, so parallel guesses cannot
// slip past the limit, and when a pause is due the answer is 429 with
// Retry-After. A delay rather than a lockout keeps an attacker from
// locking a user out for long. Unknown users, users without a password,
// disabled and service users get exactly the same answer as a wrong
// password, after the same argon2id work (a dummy hash), and are counted
// alike. A successful sign-in forgets the account counter and gives its attempt
// back to the address counter (so only failures add up there), creates a new
// session (deleting any previous one of the browser) and answers 303.
//
// Passwords are argon2id PHC strings (service.HashPassword), stored apart
// from the user record (storage.UserPassword).
package login
