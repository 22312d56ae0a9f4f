package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"

	"github.com/latchkey/latchkey/internal/storage"
)

// Cookie names before h.Cookies.Name, which adds "__Host-" for https
// base URLs (see the package documentation).
const (
	sessionCookie    = "latchkey_console"
	preSessionCookie = "latchkey_csrf"
	csrfField        = "csrf_token"
)

func randomValue() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashID(id string) []byte {
	s := sha256.Sum256([]byte(id))
	return s[:]
}

// startSession creates a fresh session for u and sets its cookie. The ID
// is always new, whatever cookie the browser sent (session fixation,
// SECURITY.md K4); the caller deletes the old session.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, u storage.AdminUser) error {
	h.endSession(w, r)
	id := randomValue()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	now := h.now()
	err := h.Store.CreateConsoleSession(r.Context(), storage.ConsoleSession{
		IDHash: hashID(id), AdminUserID: u.ID, CreatedAt: now, LastSeenAt: now, CSRFSecret: secret,
	})
	if err != nil {
		return err
	}
	h.Cookies.Set(w, sessionCookie, id, 0, http.SameSiteLaxMode)
	h.Cookies.Clear(w, preSessionCookie, http.SameSiteStrictMode)
	return nil
}

// endSession deletes the browser's session, if any, and its cookie.
func (h *Handler) endSession(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(h.Cookies.Name(sessionCookie))
	if err != nil || ck.Value == "" {
		return
	}
	if err := h.Store.DeleteConsoleSession(r.Context(), hashID(ck.Value)); err != nil {
		h.logger().WarnContext(r.Context(), "console: delete session", "error", err)
	}
	h.Cookies.Clear(w, sessionCookie, http.SameSiteLaxMode)
}

// loadSession returns the live session of the request and its user.
// Expired sessions (idle or absolute timeout) and sessions of deleted or
// disabled users are deleted and refused.
func (h *Handler) loadSession(w http.ResponseWriter, r *http.Request) (storage.ConsoleSession, storage.AdminUser, bool) {
	sess, user, err := h.readSession(w, r)
	return sess, user, err == nil
}

// errNoSession: the request carries no live session.
var errNoSession = errors.New("console: no live session")

// readSession is loadSession that tells a missing or dead session
// (errNoSession) from a database that cannot be read now
// (storage.ErrUnavailable): the latter keeps the session, and the page
// answers 503 rather than sending a signed-in admin to the sign-in page
// (docs/security.md R5).
func (h *Handler) readSession(w http.ResponseWriter, r *http.Request) (storage.ConsoleSession, storage.AdminUser, error) {
	ck, err := r.Cookie(h.Cookies.Name(sessionCookie))
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return storage.ConsoleSession{}, storage.AdminUser{}, errNoSession
	}
	ctx := r.Context()
	sess, err := h.Store.GetConsoleSession(ctx, hashID(ck.Value))
	if errors.Is(err, storage.ErrUnavailable) {
		return storage.ConsoleSession{}, storage.AdminUser{}, err
	}
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			h.logger().ErrorContext(ctx, "console: read session", "error", err)
		}
		return storage.ConsoleSession{}, storage.AdminUser{}, errNoSession
	}
	now := h.now()
	expired := now.Sub(sess.LastSeenAt) > h.idle() || now.Sub(sess.CreatedAt) > h.absolute()
	user, err := h.Store.GetAdminUser(ctx, sess.AdminUserID)
	if !expired && errors.Is(err, storage.ErrUnavailable) {
		return storage.ConsoleSession{}, storage.AdminUser{}, err
	}
	if expired || err != nil || user.Disabled {
		h.endSession(w, r)
		return storage.ConsoleSession{}, storage.AdminUser{}, errNoSession
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if err := h.Store.TouchConsoleSession(ctx, sess.IDHash, now); err != nil {
			h.logger().WarnContext(ctx, "console: touch session", "error", err)
		}
	}
	return sess, user, nil
}

// sessionCSRF is the synchronizer token of a session: an HMAC of a fixed
// label under the session's own secret, so a token from one session is
// worthless in another (SECURITY.md K1).
func sessionCSRF(s storage.ConsoleSession) string {
	m := hmac.New(sha256.New, s.CSRFSecret)
	m.Write([]byte("latchkey-console-csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (h *Handler) checkCSRF(r *http.Request, want string) bool {
	got := r.PostFormValue(csrfField)
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// preSessionToken returns the double-submit token of the sign-in and
// setup forms, setting its SameSite=Strict cookie when missing.
func (h *Handler) preSessionToken(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(h.Cookies.Name(preSessionCookie)); err == nil && len(ck.Value) == 43 {
		return ck.Value
	}
	v := randomValue()
	h.Cookies.Set(w, preSessionCookie, v, 3600, http.SameSiteStrictMode)
	return v
}

// checkPreSession verifies a pre-session form: the field must equal the
// cookie, which a cross-site page can neither read nor send (Strict).
func (h *Handler) checkPreSession(r *http.Request) bool {
	ck, err := r.Cookie(h.Cookies.Name(preSessionCookie))
	if err != nil || len(ck.Value) != 43 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(r.PostFormValue(csrfField)), []byte(ck.Value)) == 1
}

// remoteIP is the peer address. Forwarding headers are ignored: they are
// client-controlled unless a trusted proxy is configured (SECURITY.md J2).
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
