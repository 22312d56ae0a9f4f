package service

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/latchkey/latchkey/internal/storage"
)

// User limits.
const (
	maxUsernameLength  = 255
	maxUserAttributes  = 50
	maxAttributeLength = 1000
	maxUserProfiles    = 50
	generatedUserIDLen = 12
)

var (
	// userIDPattern keeps user IDs usable as one URL path segment.
	userIDPattern = lazyRegexp(`^[A-Za-z0-9._~-]{1,128}$`)
	// dirUsernamePattern: printable, no spaces, so "tenant||username" and
	// email-shaped usernames both fit.
	dirUsernamePattern = lazyRegexp(`^[\x21-\x7e]{1,255}$`)
	attrNamePattern    = lazyRegexp(`^[A-Za-z0-9_.:-]{1,64}$`)
	externalIDLength   = 255
)

// UserInput creates a user. An empty ID is generated ("usr_..."), which
// keeps user subjects apart from client IDs (SECURITY.md J4).
type UserInput struct {
	ID          string
	Username    string
	Email       string
	DisplayName string
	ExternalID  string
	Active      *bool // default true
	ServiceUser bool
	Profiles    []string
	Attributes  map[string]string
}

// UserPatch updates a user; nil fields are left unchanged.
type UserPatch struct {
	Username    *string
	Email       *string
	DisplayName *string
	ExternalID  *string
	Active      *bool
	ServiceUser *bool
	Profiles    *[]string
	Attributes  *map[string]string
}

// CreateUser validates and stores a user.
func (s *Service) CreateUser(ctx context.Context, wsID string, in UserInput) (storage.User, error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return storage.User{}, err
	}
	if in.ID == "" {
		in.ID = "usr_" + randomToken(generatedUserIDLen)
	}
	now := s.now()
	u := storage.User{
		WorkspaceID: wsID, ID: in.ID, Username: in.Username, Email: in.Email, DisplayName: in.DisplayName,
		ExternalID: in.ExternalID, Active: in.Active == nil || *in.Active, ServiceUser: in.ServiceUser,
		Profiles: in.Profiles, Attributes: in.Attributes, CreatedAt: now, UpdatedAt: now,
	}
	var v validator
	v.check(userIDPattern.MatchString(u.ID), "id", "pattern", "must be 1-128 letters, digits or '.', '_', '~', '-'")
	if err := s.validateUser(ctx, &v, u); err != nil {
		return storage.User{}, err
	}
	if err := s.checkIDFreeOfClient(ctx, wsID, u.ID); err != nil {
		return storage.User{}, err
	}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return storage.User{}, mapStore(err, "user (id, username, email or external id)", u.Username)
	}
	s.audit(ctx, wsID, AuditUserCreate, TargetUser, u.ID, map[string]any{"username": u.Username, "service_user": u.ServiceUser})
	return u, nil
}

// validateUser checks every field and that the profiles exist.
func (s *Service) validateUser(ctx context.Context, v *validator, u storage.User) error {
	if v.required("username", u.Username) {
		v.check(dirUsernamePattern.MatchString(u.Username), "username", "pattern", "must be 1-%d printable characters without spaces", maxUsernameLength)
	}
	if u.Email != "" {
		validateEmail(v, "email", u.Email)
	}
	if v.maxLen("display_name", u.DisplayName, maxNameLength) {
		v.identifier("display_name", u.DisplayName)
	}
	if v.maxLen("external_id", u.ExternalID, externalIDLength) {
		v.identifier("external_id", u.ExternalID)
	}
	if v.maxItems("attributes", len(u.Attributes), maxUserAttributes) {
		for _, k := range slices.Sorted(maps.Keys(u.Attributes)) {
			v.check(attrNamePattern.MatchString(k), "attributes", "pattern", "attribute name %q must be 1-64 letters, digits or '_', '.', ':', '-'", truncate(k, 64))
			v.maxLen("attributes."+truncate(k, 64), u.Attributes[k], maxAttributeLength)
		}
	}
	if v.maxItems("profiles", len(u.Profiles), maxUserProfiles) {
		if err := s.checkProfilesExist(ctx, v, u.WorkspaceID, "profiles", u.Profiles); err != nil {
			return err
		}
	}
	return v.err()
}

// checkProfilesExist adds a field error per unknown profile ID.
func (s *Service) checkProfilesExist(ctx context.Context, v *validator, wsID, field string, ids []string) error {
	for i, id := range ids {
		_, err := s.Store.GetProfile(ctx, wsID, id)
		switch {
		case err == nil:
		case errors.Is(err, storage.ErrNotFound):
			v.add(field, "exists", "profile %q does not exist", truncate(id, 128))
		default:
			return err
		}
		if slices.Contains(ids[:i], id) {
			v.add(field, "unique", "profile %q is listed twice", truncate(id, 128))
		}
	}
	return nil
}

// GetUser returns one user of the workspace.
func (s *Service) GetUser(ctx context.Context, wsID, id string) (storage.User, error) {
	u, err := s.Store.GetUser(ctx, wsID, id)
	return u, mapStore(err, "user", id)
}

// ListUsers returns one page of users; Query matches ID, username or email.
func (s *Service) ListUsers(ctx context.Context, wsID string, opts storage.ListOptions) (storage.Page[storage.User], error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return storage.Page[storage.User]{}, err
	}
	return s.Store.ListUsers(ctx, wsID, opts)
}

// UpdateUser applies a patch. References (profiles) are checked before
// the update transaction, whose updater only re-applies the patch and the
// field checks: an updater must not read the store (it may hold the only
// connection) and may run more than once.
func (s *Service) UpdateUser(ctx context.Context, wsID, id string, p UserPatch) (storage.User, error) {
	cur, err := s.GetUser(ctx, wsID, id)
	if err != nil {
		return storage.User{}, err
	}
	applyUserPatch(&cur, p)
	var v validator
	if err := s.validateUser(ctx, &v, cur); err != nil {
		return storage.User{}, err
	}
	now := s.now()
	u, err := s.Store.UpdateUser(ctx, wsID, id, func(u storage.User) (storage.User, error) {
		applyUserPatch(&u, p)
		u.UpdatedAt = now
		return u, nil
	})
	if err != nil {
		return storage.User{}, mapStore(err, "user (username, email or external id)", id)
	}
	s.audit(ctx, wsID, AuditUserUpdate, TargetUser, id, map[string]any{"fields": setFields(
		"username", p.Username != nil, "email", p.Email != nil, "display_name", p.DisplayName != nil,
		"external_id", p.ExternalID != nil, "active", p.Active != nil, "service_user", p.ServiceUser != nil,
		"profiles", p.Profiles != nil, "attributes", p.Attributes != nil)})
	return u, nil
}

func applyUserPatch(u *storage.User, p UserPatch) {
	setString(&u.Username, p.Username)
	setString(&u.Email, p.Email)
	setString(&u.DisplayName, p.DisplayName)
	setString(&u.ExternalID, p.ExternalID)
	if p.Active != nil {
		u.Active = *p.Active
	}
	if p.ServiceUser != nil {
		u.ServiceUser = *p.ServiceUser
	}
	setList(&u.Profiles, p.Profiles)
	if p.Attributes != nil {
		u.Attributes = *p.Attributes
	}
}

// DeleteUser removes a user.
func (s *Service) DeleteUser(ctx context.Context, wsID, id string) error {
	if err := s.Store.DeleteUser(ctx, wsID, id); err != nil {
		return mapStore(err, "user", id)
	}
	s.audit(ctx, wsID, AuditUserDelete, TargetUser, id, nil)
	return nil
}
