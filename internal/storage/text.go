package storage

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidText is returned by writes whose text is not storable: not
// valid UTF-8, or containing NUL. PostgreSQL refuses such text in a TEXT
// column while SQLite keeps it, so it is refused before any backend sees
// it (docs/security.md R4). It is the caller's input error, not a storage
// failure: callers answer a validation error.
var ErrInvalidText = errors.New("storage: text is not valid UTF-8 or contains NUL")

// ValidText reports whether s can be stored and looked up identically on
// every backend: valid UTF-8 without NUL (docs/security.md R4).
func ValidText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// ValidIdentifier reports whether s is valid text without control
// characters (Unicode category Cc: C0, DEL and C1), as every identifier,
// username and display name must be (docs/security.md R4).
func ValidIdentifier(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return strings.IndexFunc(s, unicode.IsControl) < 0
}
