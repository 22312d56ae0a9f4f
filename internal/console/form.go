package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/service"
)

// form reads a parsed POST form (bodies are capped by the server
// middleware, SECURITY.md M1).
type form struct{ r *http.Request }

func formOf(r *http.Request) form {
	_ = r.ParseForm()
	return form{r: r}
}

func (f form) get(k string) string { return strings.TrimSpace(f.r.PostForm.Get(k)) }

func (f form) str(k string) *string {
	if _, ok := f.r.PostForm[k]; !ok {
		return nil
	}
	v := f.get(k)
	return &v
}

func (f form) list(k string) []string {
	var out []string
	for _, v := range f.r.PostForm[k] {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (f form) checked(k string) bool { return f.r.PostForm.Get(k) == "on" }

// fieldErrs collects problems the console finds while parsing (a number
// that is not a number) so they are reported with the service layer's.
type fieldErrs struct{ errs []service.FieldError }

func (e *fieldErrs) add(field, rule, msg string) {
	e.errs = append(e.errs, service.FieldError{Field: field, Rule: rule, Message: field + ": " + msg})
}

// seconds parses a whole number of seconds; "" means not given.
func (e *fieldErrs) seconds(f form, field, key string) (time.Duration, bool) {
	raw := f.get(key)
	if raw == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 || n > 10*365*24*3600 {
		e.add(field, "integer", "must be a whole number of seconds")
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// hours parses a whole number of hours; "" means not given.
func (e *fieldErrs) hours(f form, field, key string) (time.Duration, bool) {
	raw := f.get(key)
	if raw == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 || n > 10*365*24 {
		e.add(field, "integer", "must be a whole number of hours")
		return 0, false
	}
	return time.Duration(n) * time.Hour, true
}

// or returns the parse errors when there are any, else runs fn.
func orRun[T any](e *fieldErrs, fn func() (T, error)) (T, error) {
	if len(e.errs) > 0 {
		var zero T
		return zero, &service.ValidationError{Errors: e.errs}
	}
	return fn()
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func parseInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
