package storage

// Console is the part of Storage behind the web console: admin users,
// console sessions, one-time codes, the audit log and the mail outbox.
type Console interface {
}
