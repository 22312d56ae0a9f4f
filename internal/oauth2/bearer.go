package oauth2

import (
	"errors"
	"net/http"
	"strings"
)

// ErrInsufficientScope is RFC 6750 §3.1 insufficient_scope: the token is
// good but does not carry the scope the resource needs (403).
const ErrInsufficientScope ErrorCode = "insufficient_scope"

// ErrNoBearerToken marks a protected-resource request that carries no
// access token at all. RFC 6750 §3.1: such a request "SHOULD NOT include
// an error code or other error information", only the challenge.
var ErrNoBearerToken = errors.New("oauth2: no access token in the request")

// WriteBearerError answers a protected-resource request that failed
// (RFC 6750 §3): every 401, 400 and 403 carries a Bearer challenge naming
// realm; a request without a token gets the bare challenge and no body;
// invalid_request is 400, invalid_token 401, insufficient_scope 403 (§3.1).
// Other errors (temporarily_unavailable, ...) are written as WriteError
// does, without a challenge.
func WriteBearerError(w http.ResponseWriter, realm string, err error) {
	if errors.Is(err, ErrNoBearerToken) {
		h := w.Header()
		h.Set("WWW-Authenticate", `Bearer realm="`+challengeValue(realm)+`"`)
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	e := AsError(err)
	status, ok := bearerStatus(e.Code)
	if !ok {
		WriteError(w, e)
		return
	}
	if e.Status != 0 {
		status = e.Status // an explicit status (404 for an unknown workspace) wins
	}
	challenge := `Bearer realm="` + challengeValue(realm) + `", error="` + string(e.Code) + `"`
	if e.Description != "" {
		challenge += `, error_description="` + challengeValue(e.Description) + `"`
	}
	writeError(w, e, status, challenge)
}

// bearerStatus is RFC 6750 §3.1's status for each of its error codes.
func bearerStatus(code ErrorCode) (int, bool) {
	switch code {
	case ErrInvalidRequest:
		return http.StatusBadRequest, true
	case ErrInvalidToken:
		return http.StatusUnauthorized, true
	case ErrInsufficientScope:
		return http.StatusForbidden, true
	}
	return 0, false
}

// challengeValue keeps a quoted-string attribute within the characters
// RFC 6750 §3 allows (%x20-21 / %x23-5B / %x5D-7E): no quote, no
// backslash, nothing outside printable ASCII.
func challengeValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}
