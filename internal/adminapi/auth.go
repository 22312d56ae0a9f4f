package adminapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/ratelimit"
	"github.com/latchkey/latchkey/internal/service"
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
// LATCHKEY_ADMIN_TOKEN), which is super_admin, or any unexpired token whose
// SHA-256 is stored as an admin token in Store (when non-nil), with the
// role stored with it (docs/security.md O5).
type Auth struct {
	Static string
	Store  storage.Storage
	// Now is the clock of expiry and last use; nil is time.Now.
	Now func() time.Time
}

// Principal is what an admin credential may do: a role of
// storage.AdminRoles and, for the workspace roles, its workspaces.
type Principal struct {
	Role       string
	Workspaces []string
	Actor      service.Actor
}

// PrincipalAuthorizer is implemented by authorizers that know the role of
// a credential; an Authorizer without it grants super_admin.
type PrincipalAuthorizer interface {
	Principal(r *http.Request) (p Principal, ok bool, err error)
}

// touchInterval bounds how often a token's last use is written: the hot
// path writes at most once per interval per token.
const touchInterval = time.Minute

// Authorize implements Authorizer.
func (a Auth) Authorize(r *http.Request) (bool, error) {
	_, ok, err := a.Principal(r)
	return ok, err
}

// Principal implements PrincipalAuthorizer. Stored tokens are looked up in
// the database on every request, never cached, so a deleted token stops
// at once on every process sharing it, and so does a token's power over
// a deleted workspace, which the deletion's transaction takes out of its
// list (storage.Storage.DeleteWorkspace; docs/security.md O2, O5).
func (a Auth) Principal(r *http.Request) (Principal, bool, error) {
	token, ok := BearerToken(r)
	if !ok {
		return Principal{}, false, nil
	}
	sum := sha256.Sum256([]byte(token))
	if a.Static != "" {
		// Comparing hashes keeps the comparison constant-time even when
		// the lengths differ.
		want := sha256.Sum256([]byte(a.Static))
		if subtle.ConstantTimeCompare(sum[:], want[:]) == 1 {
			return Principal{Role: storage.RoleSuperAdmin, Actor: service.Actor{
				Kind: storage.ActorAPIToken, Name: "LATCHKEY_ADMIN_TOKEN", IP: peerIP(r)}}, true, nil
		}
	}
	if a.Store == nil {
		return Principal{}, false, nil
	}
	t, err := a.Store.GetAdminTokenByHash(r.Context(), sum[:])
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return Principal{}, false, nil
	case err != nil:
		return Principal{}, false, err
	}
	now := a.now()
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return Principal{}, false, nil
	}
	a.touch(r, t, now)
	return Principal{Role: t.Role, Workspaces: t.Workspaces, Actor: service.Actor{
		Kind: storage.ActorAPIToken, ID: "token:" + t.ID, Name: t.Name, IP: peerIP(r)}}, true, nil
}

// touch records the token's use when the recorded one is older than
// touchInterval. A failure only delays the record, so it does not fail
// the request.
func (a Auth) touch(r *http.Request, t storage.AdminToken, now time.Time) {
	if now.Sub(t.LastUsedAt) < touchInterval {
		return
	}
	_ = a.Store.TouchAdminToken(r.Context(), t.ID, now, now.Add(-touchInterval))
}

func (a Auth) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
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
