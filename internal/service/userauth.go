package service

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// Audit actions and target of the user sign-in settings.
const (
	AuditUserPassword     = "user.password.set"
	AuditUserPasswordLink = "user.password.link"
	AuditConsentRevoke    = "user.consent.revoke"
	AuditSessionRevoke    = "user.session.revoke"
)

// Password rules (NIST SP 800-63B §5.1.1.2: at least 8 characters; the
// maximum only bounds the hashing work).
const (
	MinUserPasswordLen = 8
	MaxUserPasswordLen = 256
)

// PasswordLinkTTL is how long an e-mailed set-password link works: an
// hour, as a reset token should (SECURITY.md X11; OWASP Forgot Password
// Cheat Sheet). An admin sends a new link when it lapses, and the new one
// voids the old.
const PasswordLinkTTL = time.Hour

// PasswordTokenPrefix makes set-password tokens greppable.
const PasswordTokenPrefix = "lkpw_"

// SetUserPassword sets a user's password (argon2id), signs the user out
// everywhere and revokes the user's refresh tokens. Service users never
// sign in interactively and get no password.
func (s *Service) SetUserPassword(ctx context.Context, wsID, userID, password string) error {
	u, err := s.signInUser(ctx, wsID, userID)
	if err != nil {
		return err
	}
	var v validator
	v.check(len(password) >= MinUserPasswordLen, "password", "min_length", "must be at least %d characters", MinUserPasswordLen)
	v.check(len(password) <= MaxUserPasswordLen, "password", "max_length", "must be at most %d characters", MaxUserPasswordLen)
	if err := v.err(); err != nil {
		return err
	}
	err = s.Store.SetUserPassword(ctx, storage.UserPassword{WorkspaceID: wsID, UserID: u.ID, Hash: HashPassword(password), ChangedAt: s.now()})
	if err != nil {
		return mapStore(err, "user", userID)
	}
	if err := s.endUserGrants(ctx, wsID, u.ID); err != nil {
		return err
	}
	s.audit(ctx, wsID, AuditUserPassword, TargetUser, userID, nil)
	return nil
}

// endUserGrants signs the user out everywhere and revokes every refresh
// token family: a password reset by an administrator usually means the
// account was at risk (SECURITY.md H9).
func (s *Service) endUserGrants(ctx context.Context, wsID, userID string) error {
	if _, err := s.Store.RevokeTokenFamilies(ctx, wsID, userID, "", s.now()); err != nil {
		return err
	}
	_, err := s.Store.DeleteUserBrowserSessions(ctx, wsID, userID)
	return err
}

func (s *Service) signInUser(ctx context.Context, wsID, userID string) (storage.User, error) {
	u, err := s.Store.GetUser(ctx, wsID, userID)
	if err != nil {
		return u, mapStore(err, "user", userID)
	}
	if u.ServiceUser {
		return u, conflict(nil, "user %q is a service user: service users do not sign in", userID)
	}
	return u, nil
}

// SendPasswordLink e-mails the user a link to choose a password; linkBase
// is the workspace's set-password page ({issuer}/password/set). The token
// carries 256 bits, is stored only as a hash, works once and for
// PasswordLinkTTL. It returns the address the link went to.
func (s *Service) SendPasswordLink(ctx context.Context, wsID, userID, linkBase string) (string, error) {
	u, err := s.signInUser(ctx, wsID, userID)
	if err != nil {
		return "", err
	}
	if u.Email == "" {
		return "", conflict(nil, "user %q has no email address", userID)
	}
	if s.Mailer == nil {
		return "", errors.New("service: no mailer configured")
	}
	token := PasswordTokenPrefix + randomToken(32)
	sum := sha256.Sum256([]byte(token))
	now := s.now()
	if err := s.Store.CreatePasswordToken(ctx, storage.PasswordToken{
		WorkspaceID: wsID, Hash: sum[:], UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(PasswordLinkTTL),
	}); err != nil {
		return "", mapStore(err, "user", userID)
	}
	body := fmt.Sprintf("Hello %s,\n\nChoose your password here:\n\n%s?token=%s\n\nThe link works once and expires in %d minutes; a newer link replaces it.\n"+
		"If you did not expect this message, you can ignore it.\n", userName(u), linkBase, token, int(PasswordLinkTTL.Minutes()))
	if err := s.Mailer.SendMail(ctx, u.Email, "Choose your password", body); err != nil {
		return "", fmt.Errorf("service: send password link: %w", err)
	}
	s.audit(ctx, wsID, AuditUserPasswordLink, TargetUser, userID, map[string]any{"to": u.Email})
	return u.Email, nil
}

func userName(u storage.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// ListUserConsents lists the apps a user has consented to.
func (s *Service) ListUserConsents(ctx context.Context, wsID, userID string) ([]storage.Consent, error) {
	if _, err := s.GetUser(ctx, wsID, userID); err != nil {
		return nil, err
	}
	return s.Store.ListConsents(ctx, wsID, userID)
}

// RevokeUserConsent deletes a user's consent for a client and revokes
// every token family the client holds for the user.
func (s *Service) RevokeUserConsent(ctx context.Context, wsID, userID, clientID string) error {
	if err := s.Store.DeleteConsent(ctx, wsID, userID, clientID); err != nil {
		return mapStore(err, "consent", userID+"/"+clientID)
	}
	if _, err := s.Store.RevokeTokenFamilies(ctx, wsID, userID, clientID, s.now()); err != nil {
		return err
	}
	s.audit(ctx, wsID, AuditConsentRevoke, TargetUser, userID, map[string]any{"client_id": clientID})
	return nil
}

// ListUserSessions lists a user's browser sessions, newest first.
func (s *Service) ListUserSessions(ctx context.Context, wsID, userID string) ([]storage.BrowserSession, error) {
	if _, err := s.GetUser(ctx, wsID, userID); err != nil {
		return nil, err
	}
	return s.Store.ListBrowserSessions(ctx, wsID, userID)
}

// RevokeUserSession signs one session out; sessionID "" signs the user out
// everywhere.
func (s *Service) RevokeUserSession(ctx context.Context, wsID, userID, sessionID string) error {
	if _, err := s.GetUser(ctx, wsID, userID); err != nil {
		return err
	}
	if sessionID == "" {
		if _, err := s.Store.DeleteUserBrowserSessions(ctx, wsID, userID); err != nil {
			return err
		}
	} else if err := s.deleteUserSession(ctx, wsID, userID, sessionID); err != nil {
		return err
	}
	s.audit(ctx, wsID, AuditSessionRevoke, TargetUser, userID, map[string]any{"session_id": sessionID})
	return nil
}

// deleteUserSession deletes a session only when it is the user's.
func (s *Service) deleteUserSession(ctx context.Context, wsID, userID, sessionID string) error {
	list, err := s.Store.ListBrowserSessions(ctx, wsID, userID)
	if err != nil {
		return err
	}
	for _, bs := range list {
		if bs.ID == sessionID {
			return mapStore(s.Store.DeleteBrowserSession(ctx, wsID, sessionID), "session", sessionID)
		}
	}
	return notFound("session %s not found", quoteID(sessionID))
}
