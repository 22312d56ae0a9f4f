package service

import (
	"context"

	"github.com/latchkey/latchkey/internal/storage"
)

const generatedProfileIDLen = 9

// ProfileInput creates a profile (a named group of users, like a
// Salesforce profile). An empty ID is generated.
type ProfileInput struct {
	ID          string
	Name        string
	Description string
}

// ProfilePatch updates a profile; nil fields are left unchanged.
type ProfilePatch struct {
	Name        *string
	Description *string
}

func validateProfile(v *validator, p storage.Profile) {
	validateName(v, "name", p.Name)
	v.maxLen("description", p.Description, maxDescriptionLength)
}

// CreateProfile validates and stores a profile. Names are unique per workspace.
func (s *Service) CreateProfile(ctx context.Context, wsID string, in ProfileInput) (storage.Profile, error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return storage.Profile{}, err
	}
	if in.ID == "" {
		in.ID = "prf_" + randomToken(generatedProfileIDLen)
	}
	now := s.now()
	p := storage.Profile{WorkspaceID: wsID, ID: in.ID, Name: in.Name, Description: in.Description, CreatedAt: now, UpdatedAt: now}
	var v validator
	v.check(userIDPattern.MatchString(p.ID), "id", "pattern", "must be 1-128 letters, digits or '.', '_', '~', '-'")
	validateProfile(&v, p)
	if err := v.err(); err != nil {
		return storage.Profile{}, err
	}
	if err := s.Store.CreateProfile(ctx, p); err != nil {
		return storage.Profile{}, mapStore(err, "profile (id or name)", p.Name)
	}
	s.audit(ctx, wsID, AuditProfileCreate, TargetProfile, p.ID, map[string]any{"name": p.Name})
	return p, nil
}

// GetProfile returns one profile.
func (s *Service) GetProfile(ctx context.Context, wsID, id string) (storage.Profile, error) {
	p, err := s.Store.GetProfile(ctx, wsID, id)
	return p, mapStore(err, "profile", id)
}

// ListProfiles returns one page of profiles.
func (s *Service) ListProfiles(ctx context.Context, wsID string, opts storage.ListOptions) (storage.Page[storage.Profile], error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return storage.Page[storage.Profile]{}, err
	}
	return s.Store.ListProfiles(ctx, wsID, opts)
}

// UpdateProfile applies a patch.
func (s *Service) UpdateProfile(ctx context.Context, wsID, id string, p ProfilePatch) (storage.Profile, error) {
	now := s.now()
	out, err := s.Store.UpdateProfile(ctx, wsID, id, func(cur storage.Profile) (storage.Profile, error) {
		setString(&cur.Name, p.Name)
		setString(&cur.Description, p.Description)
		cur.UpdatedAt = now
		var v validator
		validateProfile(&v, cur)
		if err := v.err(); err != nil {
			return cur, err
		}
		return cur, nil
	})
	if err != nil {
		if PublicMessage(err) != "" {
			return storage.Profile{}, err
		}
		return storage.Profile{}, mapStore(err, "profile", id)
	}
	s.audit(ctx, wsID, AuditProfileUpdate, TargetProfile, id, map[string]any{"fields": setFields(
		"name", p.Name != nil, "description", p.Description != nil)})
	return out, nil
}

// DeleteProfile removes a profile; users and clients keep the dangling
// ID, which matches nothing any more.
func (s *Service) DeleteProfile(ctx context.Context, wsID, id string) error {
	if err := s.Store.DeleteProfile(ctx, wsID, id); err != nil {
		return mapStore(err, "profile", id)
	}
	s.audit(ctx, wsID, AuditProfileDelete, TargetProfile, id, nil)
	return nil
}
