package service

import (
	"errors"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
)

// A message naming an identifier from a request shows printable text as
// it is and nothing of bytes that are not: no Go escape syntax such as
// "\xff" reaches a person (docs/security.md R4).
func TestQuoteID(t *testing.T) {
	for id, want := range map[string]string{
		"svc-orders":             `"svc-orders"`,
		"Ünïcode name":           `"Ünïcode name"`,
		"\xff\xfe":               "(an identifier that is not printable text)",
		"tab\there":              "(an identifier that is not printable text)",
		"":                       "(an identifier that is not printable text)",
		strings.Repeat("a", 201): "(an identifier that is not printable text)",
	} {
		if got := quoteID(id); got != want {
			t.Errorf("quoteID(%q) = %s, want %s", id, got, want)
		}
	}
	err := mapStore(storage.ErrNotFound, "client", "\xff\xfe")
	var e *Error
	if !errors.As(err, &e) || strings.Contains(e.Message, `\x`) || e.Message != "client (an identifier that is not printable text) not found" {
		t.Fatalf("message %v", err)
	}
}
