// Package mail sends the few e-mails Latchkey writes (one-time codes of
// the console's "View secret"). SMTP delivers them when configured (plain,
// STARTTLS or implicit TLS, RFC 5321/3207/8314); every message is also
// recorded in the storage outbox, and without SMTP the outbox is the
// delivery: the super admin reads it in the console, so a single-machine
// install works without a mail server.
package mail
