package adminapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/storage"
)

// Authorizer decides whether a request carries a valid admin credential.
type Authorizer interface {
	Authorize(r *http.Request) bool
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
func (a Auth) Authorize(r *http.Request) bool {
	token, ok := BearerToken(r)
	if !ok {
		return false
	}
	sum := sha256.Sum256([]byte(token))
	if a.Static != "" {
		// Comparing hashes keeps the comparison constant-time even when
		// the lengths differ.
		want := sha256.Sum256([]byte(a.Static))
		if subtle.ConstantTimeCompare(sum[:], want[:]) == 1 {
			return true
		}
	}
	if a.Store == nil {
		return false
	}
	_, err := a.Store.GetAdminTokenByHash(r.Context(), sum[:])
	return err == nil
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
