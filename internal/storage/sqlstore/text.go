package sqlstore

import (
	"fmt"
	"strings"

	"github.com/latchkey/latchkey/internal/storage"
)

// Text guard (docs/security.md R4). PostgreSQL refuses a parameter that
// is not valid UTF-8 or contains NUL (SQLSTATE 22021) where SQLite
// compares or stores its bytes, so without this guard a request carrying
// %00 or %ff answers "not found" on SQLite and fails as a storage outage
// on PostgreSQL. Such text is never stored (writes refuse it), so:
//
//   - a lookup, update or delete by such a key answers ErrNotFound
//     without touching the database (findable);
//   - a list filtered by such text is empty (checkArgs);
//   - a write with such text answers ErrInvalidText, the caller's input
//     error (checkText).

// findable reports whether every key can name a stored row.
func findable(keys ...string) bool {
	for _, k := range keys {
		if !storage.ValidText(k) {
			return false
		}
	}
	return true
}

// checkText returns ErrInvalidText, naming op, unless every field is
// storable text.
func checkText(op string, fields ...string) error {
	if !findable(fields...) {
		return fmt.Errorf("sqlstore: %s: %w", op, storage.ErrInvalidText)
	}
	return nil
}

// checkArgs is checkText over the string arguments of a query built at
// run time (list and audit filters).
func checkArgs(op string, args []any) error {
	for _, a := range args {
		if s, ok := a.(string); ok && !storage.ValidText(s) {
			return fmt.Errorf("sqlstore: %s: %w", op, storage.ErrInvalidText)
		}
	}
	return nil
}

// storableText replaces what ValidText refuses (invalid UTF-8, NUL) with
// U+FFFD, for records such as audit events that must keep a hostile
// attempt rather than refuse it. Inside a JSON document it only ever
// replaces bytes within strings, so the document stays valid.
func storableText(s string) string {
	if storage.ValidText(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
