package oauth2

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// ErrorCode is an OAuth error code as registered in RFC 6749 §11.4 and the
// specifications that extend it.
type ErrorCode string

// Error codes.
const (
	ErrInvalidRequest           ErrorCode = "invalid_request"
	ErrInvalidClient            ErrorCode = "invalid_client"
	ErrInvalidGrant             ErrorCode = "invalid_grant"
	ErrUnauthorizedClient       ErrorCode = "unauthorized_client"
	ErrUnsupportedGrantType     ErrorCode = "unsupported_grant_type"
	ErrInvalidScope             ErrorCode = "invalid_scope"
	ErrInvalidTarget            ErrorCode = "invalid_target"          // RFC 8707 §2
	ErrUnsupportedTokenType     ErrorCode = "unsupported_token_type"  // RFC 7009 §2.2.1
	ErrInvalidClientMetadata    ErrorCode = "invalid_client_metadata" // RFC 7591 §3.2.2
	ErrInvalidRedirectURI       ErrorCode = "invalid_redirect_uri"    // RFC 7591 §3.2.2
	ErrInvalidToken             ErrorCode = "invalid_token"           // RFC 6750 §3.1
	ErrSlowDown                 ErrorCode = "slow_down"
	ErrTemporarilyUnavailable   ErrorCode = "temporarily_unavailable"
	ErrServerError              ErrorCode = "server_error"
	ErrAccessDenied             ErrorCode = "access_denied"
	ErrInvalidSoftwareStatement ErrorCode = "invalid_software_statement"
	// RFC 8628 §3.5: the device authorization grant's polling answers.
	ErrAuthorizationPending ErrorCode = "authorization_pending"
	ErrExpiredToken         ErrorCode = "expired_token"
)

// Error is a protocol error. Description is shown to the caller; Cause is
// kept for logs only and never written to the wire (it may hold internal
// detail). Status overrides the status derived from the code.
type Error struct {
	Code        ErrorCode
	Description string
	Status      int
	RetryAfter  int // seconds; sets Retry-After when > 0
	Cause       error
}

// NewError returns a fresh protocol error.
func NewError(code ErrorCode, description string) *Error {
	return &Error{Code: code, Description: description}
}

// Wrap is shorthand for a protocol error whose cause is logged but hidden.
func Wrap(code ErrorCode, description string, cause error) *Error {
	return &Error{Code: code, Description: description, Cause: cause}
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return "oauth2: " + string(e.Code) + ": " + e.Description + ": " + e.Cause.Error()
	}
	return "oauth2: " + string(e.Code) + ": " + e.Description
}

func (e *Error) Unwrap() error { return e.Cause }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, oauth2.NewError(oauth2.ErrInvalidGrant, "")) works.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// WithStatus returns a copy with an explicit HTTP status.
func (e *Error) WithStatus(status int) *Error {
	c := *e
	c.Status = status
	return &c
}

// HTTPStatus is the single mapping from error code to HTTP status:
// 401 for invalid_client (RFC 6749 §5.2), 500 for server_error, 503 for
// temporarily_unavailable, 400 otherwise; an explicit Status wins.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	switch e.Code {
	case ErrInvalidClient, ErrInvalidToken:
		return http.StatusUnauthorized
	case ErrServerError:
		return http.StatusInternalServerError
	case ErrTemporarilyUnavailable:
		return http.StatusServiceUnavailable
	case ErrSlowDown:
		return http.StatusTooManyRequests
	}
	return http.StatusBadRequest
}

// AsError converts any error into a protocol error. Errors that are not
// protocol errors become server_error with a generic description: internal
// text never reaches the wire.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: ErrServerError, Description: "the server could not complete the request", Cause: err}
}

// DefaultRetryAfterSeconds is the Retry-After of a 503 that names no
// other delay: long enough for a busy database to drain, short enough
// that a client retrying once is not slowed down noticeably.
const DefaultRetryAfterSeconds = 2

type wireError struct {
	Error       ErrorCode `json:"error"`
	Description string    `json:"error_description,omitempty"`
}

// WriteError writes err as an RFC 6749 §5.2 JSON error response with
// Cache-Control: no-store. invalid_client answers 401 with a
// WWW-Authenticate challenge (RFC 6749 §5.2: "MUST include").
func WriteError(w http.ResponseWriter, err error) {
	e := AsError(err)
	status := e.HTTPStatus()
	var challenge string
	if status == http.StatusUnauthorized {
		if e.Code == ErrInvalidToken {
			challenge = `Bearer error="invalid_token"`
		} else {
			challenge = `Basic realm="latchkey"`
		}
	}
	writeError(w, e, status, challenge)
}

// writeError writes e's JSON body with status and, when not empty, the
// WWW-Authenticate challenge.
func writeError(w http.ResponseWriter, e *Error, status int, challenge string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	} else if status == http.StatusServiceUnavailable {
		// RFC 9110 §10.2.3: tell the client when a retry may work; the
		// same figure as the admin API's (docs/security.md R5).
		h.Set("Retry-After", strconv.Itoa(DefaultRetryAfterSeconds))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(wireError{Error: e.Code, Description: WireDescription(e.Description)})
}

// WriteJSON writes v as a JSON response with no-store caching, as every
// token-endpoint style response must (RFC 6749 §5.1).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
