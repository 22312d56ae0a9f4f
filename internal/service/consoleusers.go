package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey/internal/storage"
)

// Limits of console users.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
	maxConsoleUserWS  = 100
)

var usernamePattern = lazyRegexp(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// ErrBadCredentials is the one answer to a failed console sign-in, whether
// the user is unknown, disabled or the password is wrong (SECURITY.md K8).
var ErrBadCredentials = errors.New("the username or password is not correct")

// ConsoleUserInput creates a console admin user.
type ConsoleUserInput struct {
	Username    string
	Email       string
	DisplayName string
	Password    string
	Role        string
	Workspaces  []string
	Disabled    bool
}

// ConsoleUserPatch updates a console user; nil fields are left unchanged.
type ConsoleUserPatch struct {
	Email       *string
	DisplayName *string
	Role        *string
	Workspaces  *[]string
	Disabled    *bool
}

// CreateConsoleUser validates in and stores a new console user with an
// argon2id hash of the password. Usernames are lower-cased.
func (s *Service) CreateConsoleUser(ctx context.Context, in ConsoleUserInput) (storage.AdminUser, error) {
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	u := storage.AdminUser{
		ID: "adm_" + randomToken(12), Username: in.Username, Email: in.Email, DisplayName: in.DisplayName,
		Role: in.Role, Workspaces: in.Workspaces, Disabled: in.Disabled,
	}
	var v validator
	v.check(usernamePattern.MatchString(in.Username), "username", "pattern",
		"must be 1-64 lowercase letters, digits or '.', '_', '@', '-', starting with a letter or digit")
	validatePassword(&v, in.Password)
	s.validateConsoleUser(ctx, &v, u)
	if err := v.err(); err != nil {
		return storage.AdminUser{}, err
	}
	u.PasswordHash = HashPassword(in.Password)
	u.CreatedAt, u.UpdatedAt = s.now(), s.now()
	if err := s.Store.CreateAdminUser(ctx, u); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return storage.AdminUser{}, conflict(err, "console user %q already exists", in.Username)
		}
		return storage.AdminUser{}, err
	}
	s.audit(ctx, "", AuditConsoleUserCreate, TargetConsoleUser, u.ID, map[string]any{"username": u.Username, "role": u.Role})
	return u, nil
}

func validatePassword(v *validator, pw string) {
	n := utf8.RuneCountInString(pw)
	v.check(n >= MinPasswordLength && len(pw) <= MaxPasswordLength, "password", "length",
		"must be %d to %d characters long", MinPasswordLength, MaxPasswordLength)
}

func (s *Service) validateConsoleUser(ctx context.Context, v *validator, u storage.AdminUser) {
	if !consoleUserShape(v, u) {
		return
	}
	for i, ws := range u.Workspaces {
		_, err := s.Store.GetWorkspace(ctx, ws)
		v.check(err == nil, fmt.Sprintf("workspaces[%d]", i), "exists", "workspace %q does not exist", truncate(ws, 64))
	}
}

// consoleUserShape checks the rules that need no storage access; it
// reports whether the workspaces should still be looked up.
func consoleUserShape(v *validator, u storage.AdminUser) bool {
	validateEmail(v, "email", u.Email)
	if v.maxLen("display_name", u.DisplayName, maxNameLength) {
		v.identifier("display_name", u.DisplayName)
	}
	return roleShape(v, u.Role, u.Workspaces)
}

// roleShape checks a role and its workspaces, for console users and admin
// tokens alike: a super admin applies to every workspace, the workspace
// roles to the listed ones. It reports whether the workspaces should
// still be looked up.
func roleShape(v *validator, role string, workspaces []string) bool {
	if !v.check(slices.Contains(storage.AdminRoles, role), "role", "enum", "must be one of %v", storage.AdminRoles) {
		return false
	}
	if role == storage.RoleSuperAdmin {
		v.check(len(workspaces) == 0, "workspaces", "empty", "must be empty for %s (it applies to every workspace)", storage.RoleSuperAdmin)
		return false
	}
	return v.check(len(workspaces) > 0, "workspaces", "required", "at least one is required for %s", role) &&
		v.maxItems("workspaces", len(workspaces), maxConsoleUserWS)
}

// GetConsoleUser returns one console user.
func (s *Service) GetConsoleUser(ctx context.Context, id string) (storage.AdminUser, error) {
	u, err := s.Store.GetAdminUser(ctx, id)
	return u, mapStore(err, "console user", id)
}

// ListConsoleUsers returns one page of console users.
func (s *Service) ListConsoleUsers(ctx context.Context, opts storage.ListOptions) (storage.Page[storage.AdminUser], error) {
	return s.Store.ListAdminUsers(ctx, opts)
}

// ConsoleUserCount counts console users with role ("" for all).
func (s *Service) ConsoleUserCount(ctx context.Context, role string) (int, error) {
	return s.Store.CountAdminUsers(ctx, role)
}

// UpdateConsoleUser applies p. Changing the role, workspaces or disabled
// flag signs the user out everywhere, so old sessions do not keep powers
// they no longer have. The last enabled super admin cannot be demoted or
// disabled.
func (s *Service) UpdateConsoleUser(ctx context.Context, id string, p ConsoleUserPatch) (storage.AdminUser, error) {
	if err := s.guardLastSuperAdmin(ctx, id, p.Role, p.Disabled); err != nil {
		return storage.AdminUser{}, err
	}
	// The workspaces are looked up before the transaction: a read through
	// another connection inside it would wait on the row lock (and on
	// SQLite's single writer) for ever.
	cur, err := s.GetConsoleUser(ctx, id)
	if err != nil {
		return storage.AdminUser{}, err
	}
	applyConsoleUserPatch(&cur, p)
	var pre validator
	s.validateConsoleUser(ctx, &pre, cur)
	if err := pre.err(); err != nil {
		return storage.AdminUser{}, err
	}
	u, err := s.Store.UpdateAdminUser(ctx, id, func(u storage.AdminUser) (storage.AdminUser, error) {
		applyConsoleUserPatch(&u, p)
		var v validator
		consoleUserShape(&v, u)
		if err := v.err(); err != nil {
			return u, err
		}
		u.UpdatedAt = s.now()
		return u, nil
	})
	if err != nil {
		return storage.AdminUser{}, mapStore(err, "console user", id)
	}
	if p.Role != nil || p.Workspaces != nil || p.Disabled != nil {
		if err := s.Store.DeleteAdminUserSessions(ctx, id); err != nil {
			return u, err
		}
	}
	s.audit(ctx, "", AuditConsoleUserUpdate, TargetConsoleUser, id, map[string]any{"fields": setFields(
		"email", p.Email != nil, "display_name", p.DisplayName != nil, "role", p.Role != nil,
		"workspaces", p.Workspaces != nil, "disabled", p.Disabled != nil)})
	return u, nil
}

func applyConsoleUserPatch(u *storage.AdminUser, p ConsoleUserPatch) {
	setString(&u.Email, p.Email)
	setString(&u.DisplayName, p.DisplayName)
	setString(&u.Role, p.Role)
	setList(&u.Workspaces, p.Workspaces)
	if p.Disabled != nil {
		u.Disabled = *p.Disabled
	}
	if u.Role == storage.RoleSuperAdmin && p.Role != nil && p.Workspaces == nil {
		u.Workspaces = nil
	}
}

// guardLastSuperAdmin refuses a change that would leave no enabled super
// admin: nobody could then manage console users from the console.
func (s *Service) guardLastSuperAdmin(ctx context.Context, id string, role *string, disabled *bool) error {
	demote := role != nil && *role != storage.RoleSuperAdmin
	disable := disabled != nil && *disabled
	if !demote && !disable {
		return nil
	}
	u, err := s.GetConsoleUser(ctx, id)
	if err != nil || u.Role != storage.RoleSuperAdmin || u.Disabled {
		return err
	}
	n, err := s.enabledSuperAdmins(ctx)
	if err != nil {
		return err
	}
	if n <= 1 {
		return conflict(nil, "console user %q is the last enabled super admin", u.Username)
	}
	return nil
}

func (s *Service) enabledSuperAdmins(ctx context.Context) (int, error) {
	n, after := 0, ""
	for {
		page, err := s.Store.ListAdminUsers(ctx, storage.ListOptions{After: after, Limit: storage.MaxPageSize})
		if err != nil {
			return 0, err
		}
		for _, u := range page.Items {
			if u.Role == storage.RoleSuperAdmin && !u.Disabled {
				n++
			}
		}
		if page.Next == "" {
			return n, nil
		}
		after = page.Next
	}
}

// DeleteConsoleUser removes a console user and its sessions. The last
// enabled super admin cannot be deleted.
func (s *Service) DeleteConsoleUser(ctx context.Context, id string) error {
	yes := true
	if err := s.guardLastSuperAdmin(ctx, id, nil, &yes); err != nil {
		return err
	}
	if err := s.Store.DeleteAdminUser(ctx, id); err != nil {
		return mapStore(err, "console user", id)
	}
	s.audit(ctx, "", AuditConsoleUserDelete, TargetConsoleUser, id, nil)
	return nil
}

// SetConsoleUserPassword replaces the password and signs the user out
// everywhere.
func (s *Service) SetConsoleUserPassword(ctx context.Context, id, password string) error {
	var v validator
	validatePassword(&v, password)
	if err := v.err(); err != nil {
		return err
	}
	hash := HashPassword(password)
	_, err := s.Store.UpdateAdminUser(ctx, id, func(u storage.AdminUser) (storage.AdminUser, error) {
		u.PasswordHash, u.UpdatedAt = hash, s.now()
		return u, nil
	})
	if err != nil {
		return mapStore(err, "console user", id)
	}
	if err := s.Store.DeleteAdminUserSessions(ctx, id); err != nil {
		return err
	}
	s.audit(ctx, "", AuditConsoleUserPass, TargetConsoleUser, id, nil)
	return nil
}

// AuthenticateConsoleUser checks a username and password. Unknown users
// are verified against a dummy hash so that they cost the same time as
// known ones; every failure is ErrBadCredentials (SECURITY.md K8).
func (s *Service) AuthenticateConsoleUser(ctx context.Context, username, password string) (storage.AdminUser, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	if len(password) > MaxPasswordLength || len(username) > 64 {
		VerifyPassword(DummyPasswordHash(), "")
		return storage.AdminUser{}, ErrBadCredentials
	}
	u, err := s.Store.GetAdminUserByUsername(ctx, username)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.AdminUser{}, err
	}
	if err != nil {
		VerifyPassword(DummyPasswordHash(), password)
		return storage.AdminUser{}, ErrBadCredentials
	}
	if !VerifyPassword(u.PasswordHash, password) || u.Disabled {
		return storage.AdminUser{}, ErrBadCredentials
	}
	return u, nil
}

// RecordSignIn audits a console sign-in.
func (s *Service) RecordSignIn(ctx context.Context, u storage.AdminUser) {
	s.audit(ctx, "", AuditConsoleSignIn, TargetConsoleUser, u.ID, map[string]any{"username": u.Username})
}
