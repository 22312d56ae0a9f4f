package dpop

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// Error codes of RFC 9449.
const (
	// ErrInvalidProof: the DPoP proof is missing, malformed or does not
	// match the request (RFC 9449 §5 at the token endpoint, §7.1 at a
	// protected resource).
	ErrInvalidProof oauth2.ErrorCode = "invalid_dpop_proof"
	// ErrUseNonce: the server requires a nonce it issued (§8, §9).
	ErrUseNonce oauth2.ErrorCode = "use_dpop_nonce"
)

// Header names (RFC 9449 §4.1, §8).
const (
	HeaderProof = "DPoP"
	HeaderNonce = "DPoP-Nonce"
)

// Scheme is the authorization scheme of a DPoP-bound access token
// (RFC 9449 §7.1) and its token_type (§5).
const Scheme = "DPoP"

// invalidProof is a 400 invalid_dpop_proof with a description for the
// developer; cause, when set, goes to the log only.
func invalidProof(description string, cause error) error {
	return &oauth2.Error{Code: ErrInvalidProof, Description: description, Cause: cause}
}

func useNonce(description string) error {
	return &oauth2.Error{Code: ErrUseNonce, Description: description}
}

// IsUseNonce reports whether err asks the client for a (new) nonce: the
// response must then carry a DPoP-Nonce header (§8, §9).
func IsUseNonce(err error) bool {
	var e *oauth2.Error
	return errors.As(err, &e) && e.Code == ErrUseNonce
}

// IsProofError reports whether err is one of this package's protocol
// errors (invalid_dpop_proof or use_dpop_nonce).
func IsProofError(err error) bool {
	var e *oauth2.Error
	return errors.As(err, &e) && (e.Code == ErrUseNonce || e.Code == ErrInvalidProof)
}

// WriteChallenge writes a protected resource's error with the DPoP
// authentication scheme (RFC 9449 §7.1): 401 with
// WWW-Authenticate: DPoP error="...", error_description="...", algs="...".
// Errors that are not about the token or proof keep their own status (a
// 403 for a scope, with the challenge; a 503 without). nonce, when set, goes out as DPoP-Nonce
// (§9).
func WriteChallenge(w http.ResponseWriter, err error, algs []string, nonce string) {
	e := oauth2.AsError(err)
	status := e.HTTPStatus()
	switch e.Code {
	case ErrInvalidProof, ErrUseNonce, oauth2.ErrInvalidToken:
		status = http.StatusUnauthorized
	}
	if e.Status != 0 {
		status = e.Status
	}
	if status >= http.StatusInternalServerError {
		oauth2.WriteError(w, e) // with its Retry-After; no challenge applies
		return
	}
	challenge := Scheme + ` algs="` + strings.Join(algs, " ") + `"`
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		challenge += `, error="` + string(e.Code) + `"`
		if e.Description != "" {
			challenge += `, error_description="` + challengeValue(e.Description) + `"`
		}
	}
	h := w.Header()
	if nonce != "" {
		h.Set(HeaderNonce, nonce)
	}
	h.Set("WWW-Authenticate", challenge)
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error       oauth2.ErrorCode `json:"error"`
		Description string           `json:"error_description,omitempty"`
	}{e.Code, oauth2.WireDescription(e.Description)})
}

// challengeValue keeps a quoted-string attribute within %x20-21 /
// %x23-5B / %x5D-7E (RFC 6750 §3, which RFC 9449 §7.1 reuses).
func challengeValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}
