package declarative

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/adminclient"
)

// Error is a refused apply: the resource and member that are wrong, as the
// document spells them (clients[billing-api].redirect_uris[0]), and what
// the server said about them. Status and Code are those of the admin API
// answer that refused it.
type Error struct {
	Status int
	Code   string
	Errors []adminclient.FieldError
}

func (e *Error) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		msgs[i] = fe.Message
	}
	return strings.Join(msgs, "\n")
}

// fieldError is a document error found before the server was asked.
func fieldError(res, field, msg string) error {
	f := res + "." + field
	return &Error{Status: http.StatusBadRequest, Code: "invalid_request",
		Errors: []adminclient.FieldError{{Field: f, Rule: "document", Message: f + ": " + msg}}}
}

// wrap names the resource (and sub-resource member) in an admin API
// refusal; other errors (the server unreachable) only get the resource.
func wrap(res, sub string, err error) error {
	if err == nil {
		return nil
	}
	var ae *adminclient.APIError
	if !errors.As(err, &ae) {
		var de *Error
		if errors.As(err, &de) {
			return err
		}
		return fmt.Errorf("%s: %w", res, err)
	}
	prefix := res
	if sub != "" {
		prefix += "." + sub
	}
	out := &Error{Status: ae.Status, Code: ae.Code}
	for _, fe := range ae.Errors {
		field := prefix + "." + fe.Field
		msg, ok := strings.CutPrefix(fe.Message, fe.Field)
		if !ok {
			msg = ": " + fe.Message
		}
		out.Errors = append(out.Errors, adminclient.FieldError{Field: field, Rule: fe.Rule, Message: field + msg})
	}
	if len(out.Errors) == 0 {
		desc := ae.Description
		if desc == "" {
			desc = ae.Code
		}
		out.Errors = []adminclient.FieldError{{Field: prefix, Rule: ae.Code, Message: prefix + ": " + desc}}
	}
	return out
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func pathEscape(s string) string { return url.PathEscape(s) }
