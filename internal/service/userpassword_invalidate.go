package service

import (
	"context"

	"github.com/latchkey/latchkey/internal/storage"
)

// AuditUserPasswordInvalidate records an administrator expiring a user's
// password.
const AuditUserPasswordInvalidate = "user.password.expire"

// InvalidateUserPassword expires a directory user's password at once: the
// stored hash is replaced by the hash of 256 random bits nobody knows, so
// the old password stops working, and the user is signed out everywhere
// with every refresh token revoked (as SetUserPassword does, SECURITY.md
// H9). The user signs in again after choosing a new password through a
// set-password link (SendPasswordLink) or one an administrator sets.
// Service users have no password and are refused.
func (s *Service) InvalidateUserPassword(ctx context.Context, wsID, userID string) error {
	u, err := s.signInUser(ctx, wsID, userID)
	if err != nil {
		return err
	}
	err = s.Store.SetUserPassword(ctx, storage.UserPassword{
		WorkspaceID: wsID, UserID: u.ID, Hash: HashPassword(randomToken(32)), ChangedAt: s.now(),
	})
	if err != nil {
		return mapStore(err, "user", userID)
	}
	if err := s.endUserGrants(ctx, wsID, u.ID); err != nil {
		return err
	}
	s.audit(ctx, wsID, AuditUserPasswordInvalidate, TargetUser, userID, nil)
	return nil
}
