package adminapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/ratelimit"
	"github.com/latchkey/latchkey/internal/storage"
)

// Authorizer decides whether a request carries a valid admin credential.
// err is set only when the decision could not be made (storage failed):
// that is no failed authentication, and the caller answers 503.
type Authorizer interface {
	Authorize(r *http.Request) (ok bool, err error)
}

// maxBearerLength bounds the work spent on a presented token.
const maxBearerLength = 1024

// Auth accepts the bearer token Static (when non-empty, e.g. from
// LATCHKEY_ADMIN_TOKEN) or any token whose SHA-256 is stored as an admin
// token in Store (when non-nil).
type Auth struct {
	Static string
	Store  storage.Storage
}

// Authorize implements Authorizer.
func (a Auth) Authorize(r *http.Request) (bool, error) {
	token, ok := BearerToken(r)
	if !ok {
		return false, nil
	}
	sum := sha256.Sum256([]byte(token))
	if a.Static != "" {
		// Comparing hashes keeps the comparison constant-time even when
		// the lengths differ.
		want := sha256.Sum256([]byte(a.Static))
		if subtle.ConstantTimeCompare(sum[:], want[:]) == 1 {
			return true, nil
		}
	}
	if a.Store == nil {
		return false, nil
	}
	_, err := a.Store.GetAdminTokenByHash(r.Context(), sum[:])
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	}
	return false, err
}

// BearerToken extracts the token of an "Authorization: Bearer" header
// (RFC 6750 §2.1; the scheme is case-insensitive).
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > maxBearerLength {
		return "", false
	}
	return token, true
}

// codeTooManyRequests is the admin API error of a spent failed-token
// budget.
const codeTooManyRequests = "too_many_requests"

// refuseSpentBudget answers 429 with Retry-After when the caller's address
// has spent its failed-token budget; true when it has answered. Checking
// comes before the token is looked at, so a guesser gets no answer about
// its guesses, and it spends nothing: only failures do.
func (h *Handler) refuseSpentBudget(w http.ResponseWriter, r *http.Request) bool {
	if h.FailedAuth == nil {
		return false
	}
	wait := h.FailedAuth.Wait(ratelimit.AdminTokenKey(peerIP(r)))
	if wait <= 0 {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	h.writeError(w, r, &httpError{status: http.StatusTooManyRequests, code: codeTooManyRequests,
		desc: "too many requests with an invalid admin token from this address; wait for the time in Retry-After"})
	return true
}

// chargeFailedToken spends one token of the caller's address for a
// missing or wrong admin token (docs/security.md R8).
func (h *Handler) chargeFailedToken(r *http.Request) {
	if h.FailedAuth != nil {
		h.FailedAuth.Allow(ratelimit.AdminTokenKey(peerIP(r)))
	}
}
