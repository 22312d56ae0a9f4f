package service

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/latchkey/latchkey/internal/storage"
)

// Sentinel kinds of service errors. Check them with errors.Is.
var (
	// ErrNotFound: the workspace or object does not exist (in that workspace).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the object collides with an existing one, or the
	// operation would leave the system in a forbidden state.
	ErrConflict = errors.New("conflict")
)

// FieldError is one problem with one input field.
type FieldError struct {
	Field   string `json:"field"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// ValidationError lists every problem found in an input, so a caller can
// fix them all in one round trip.
type ValidationError struct {
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		msgs[i] = fe.Message
	}
	return "invalid input: " + strings.Join(msgs, "; ")
}

// Error is a not-found or conflict error with a message that is safe to
// show to the caller. Kind is ErrNotFound or ErrConflict; Cause (often a
// storage error) is for logs and errors.Is only.
type Error struct {
	Kind    error
	Message string
	Cause   error
}

func (e *Error) Error() string { return e.Message }

// Unwrap exposes both the kind and the cause to errors.Is / errors.As.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Cause}
}

// quoteID quotes an identifier taken from a request for a message a
// person reads: printable text as it is, in quotes; anything else (bytes
// that are not UTF-8, control characters, an over-long value) is not
// echoed, so a message never shows Go's escape syntax or a wall of input.
func quoteID(id string) string {
	if id == "" || len(id) > 200 || !utf8.ValidString(id) || strings.IndexFunc(id, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return "(an identifier that is not printable text)"
	}
	return `"` + id + `"`
}

func notFound(format string, args ...any) error {
	return &Error{Kind: ErrNotFound, Message: fmt.Sprintf(format, args...)}
}

func conflict(cause error, format string, args ...any) error {
	return &Error{Kind: ErrConflict, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// mapStore turns storage sentinels into service errors with a readable
// message naming the object; other errors pass through unchanged (callers
// treat them as internal errors and never show their text).
func mapStore(err error, what, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return &Error{Kind: ErrNotFound, Message: fmt.Sprintf("%s %s not found", what, quoteID(id)), Cause: err}
	case errors.Is(err, storage.ErrAlreadyExists):
		return &Error{Kind: ErrConflict, Message: fmt.Sprintf("%s %s conflicts with an existing one", what, quoteID(id)), Cause: err}
	case errors.Is(err, storage.ErrInvalidText):
		// The storage text guard's backstop (docs/security.md R4): input
		// that validation let through and no backend could store.
		return &ValidationError{Errors: []FieldError{{Field: what, Rule: "text",
			Message: what + ": text must be valid UTF-8 without NUL characters"}}}
	}
	return err
}

// PublicMessage returns the text of err that may be shown to an API caller,
// or "" when err is internal (its text must not leave the server).
func PublicMessage(err error) string {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Error()
	}
	var se *Error
	if errors.As(err, &se) {
		return se.Message
	}
	return ""
}

// validator collects field errors.
type validator struct {
	errs []FieldError
}

func (v *validator) add(field, rule, format string, args ...any) {
	v.errs = append(v.errs, FieldError{Field: field, Rule: rule, Message: field + ": " + fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: v.errs}
}

// check adds an error when ok is false.
func (v *validator) check(ok bool, field, rule, format string, args ...any) bool {
	if !ok {
		v.add(field, rule, format, args...)
	}
	return ok
}

// maxLen checks the length of a text field and that it is text every
// backend stores as given: valid UTF-8 without NUL (docs/security.md R4).
func (v *validator) maxLen(field, value string, n int) bool {
	return v.check(len(value) <= n, field, "max_length", "must be at most %d characters", n) &&
		v.check(storage.ValidText(value), field, "text", "must be valid UTF-8 without NUL characters")
}

// identifier checks that a name or identifier holds no control
// characters (docs/security.md R4): they would forge lines in logs and
// the console, and no name needs them.
func (v *validator) identifier(field, value string) bool {
	return v.check(storage.ValidIdentifier(value), field, "text", "must be valid UTF-8 without control characters")
}

func (v *validator) required(field, value string) bool {
	return v.check(strings.TrimSpace(value) != "", field, "required", "is required")
}

// maxItems reports whether a list is within its cap. Callers skip per-item
// checks of an over-long list so that a hostile input costs bounded work
// (SECURITY.md M5).
func (v *validator) maxItems(field string, n, max int) bool {
	return v.check(n <= max, field, "max_items", "must have at most %d items", max)
}
