package webui

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// DefaultSessionTTL is how long a browser stays signed in.
const DefaultSessionTTL = 12 * time.Hour

// SessionStore is what Sessions needs from storage: browser sessions,
// looked up by the hash of their cookie, and their users.
type SessionStore interface {
	CreateBrowserSession(ctx context.Context, s storage.BrowserSession) error
	GetBrowserSession(ctx context.Context, workspaceID string, idHash []byte) (storage.BrowserSession, error)
	// DeleteBrowserSession removes one session by its public ID.
	DeleteBrowserSession(ctx context.Context, workspaceID, id string) error
	GetUser(ctx context.Context, workspaceID, id string) (storage.User, error)
}

// The production implementation.
var _ SessionStore = storage.Storage(nil)

// Sessions manages browser sessions of the workspaces' users. The pages
// of the flow reach the browser-binding cookie and CSRF tokens through its
// Cookies, so that every cookie follows the one decision of CookiesFor.
type Sessions struct {
	Cookies
	Store SessionStore
	Now   func() time.Time
	TTL   time.Duration // 0: DefaultSessionTTL
}

func (s *Sessions) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Sessions) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return DefaultSessionTTL
}

// Signed is a live session and its user.
type Signed struct {
	Session storage.BrowserSession
	User    storage.User
}

// Current returns the live session of the browser in workspace wsID. ok is
// false without a cookie, for an unknown or expired session, and when the
// user no longer exists or is inactive (SECURITY.md O3); err only for
// storage failures.
func (s *Sessions) Current(ctx context.Context, r *http.Request, wsID string) (Signed, bool, error) {
	v := s.Read(r, SessionCookieName(wsID), maxCookieValue)
	if v == "" {
		return Signed{}, false, nil
	}
	bs, err := s.Store.GetBrowserSession(ctx, wsID, Hash(v))
	if errors.Is(err, storage.ErrNotFound) {
		return Signed{}, false, nil
	}
	if err != nil {
		return Signed{}, false, err
	}
	if !s.now().Before(bs.ExpiresAt) {
		return Signed{}, false, nil
	}
	u, err := s.Store.GetUser(ctx, wsID, bs.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return Signed{}, false, nil
	}
	if err != nil {
		return Signed{}, false, err
	}
	if !u.Active || u.ServiceUser {
		return Signed{}, false, nil
	}
	return Signed{Session: bs, User: u}, true, nil
}

// Start signs user in: any previous session of this browser in the
// workspace is deleted and a new one with a fresh cookie value is created
// (session fixation, SECURITY.md K4).
func (s *Sessions) Start(ctx context.Context, w http.ResponseWriter, r *http.Request, user storage.User, amr []string) (storage.BrowserSession, error) {
	if err := s.End(ctx, w, r, user.WorkspaceID); err != nil {
		return storage.BrowserSession{}, err
	}
	now := s.now()
	value := RandomValue()
	bs := storage.BrowserSession{
		WorkspaceID: user.WorkspaceID, ID: RandomValue()[:22], IDHash: Hash(value), UserID: user.ID,
		AuthTime: now, AMR: amr, ACR: "0", CreatedAt: now, ExpiresAt: now.Add(s.ttl()),
	}
	if err := s.Store.CreateBrowserSession(ctx, bs); err != nil {
		return storage.BrowserSession{}, err
	}
	s.Set(w, SessionCookieName(user.WorkspaceID), value, seconds(s.ttl()), http.SameSiteLaxMode)
	return bs, nil
}

// End deletes the browser's session in wsID (if any) and clears its cookie.
func (s *Sessions) End(ctx context.Context, w http.ResponseWriter, r *http.Request, wsID string) error {
	v := s.Read(r, SessionCookieName(wsID), maxCookieValue)
	if v == "" {
		return nil
	}
	s.Clear(w, SessionCookieName(wsID), http.SameSiteLaxMode)
	bs, err := s.Store.GetBrowserSession(ctx, wsID, Hash(v))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.Store.DeleteBrowserSession(ctx, wsID, bs.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return nil
}
