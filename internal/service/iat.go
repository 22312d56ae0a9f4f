package service

import (
	"context"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// Limits of initial access tokens.
const (
	maxIATDescription = 200
	maxIATExpiresIn   = 365 * 24 * time.Hour
	maxIATUses        = 1_000_000
)

// InitialAccessTokenInput creates an initial access token for dynamic
// client registration (RFC 7591 §3).
type InitialAccessTokenInput struct {
	Description string
	// ExpiresIn is the lifetime; 0 means the token never expires.
	ExpiresIn time.Duration
	// MaxUses is how many registrations it allows; 0 means unlimited.
	MaxUses int
}

// CreateInitialAccessToken stores a new token and returns its record and
// the bearer value ("lki_" + 256 random bits). Only the SHA-256 of the
// value is stored, so the value is shown once.
func (s *Service) CreateInitialAccessToken(ctx context.Context, wsID string, in InitialAccessTokenInput) (storage.InitialAccessToken, string, error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return storage.InitialAccessToken{}, "", err
	}
	var v validator
	v.maxLen("description", in.Description, maxIATDescription)
	v.check(in.ExpiresIn >= 0 && in.ExpiresIn <= maxIATExpiresIn, "expires_in", "range",
		"must be 0 (never) or at most %s", maxIATExpiresIn)
	v.check(in.MaxUses >= 0 && in.MaxUses <= maxIATUses, "max_uses", "range",
		"must be 0 (unlimited) or at most %d", maxIATUses)
	if err := v.err(); err != nil {
		return storage.InitialAccessToken{}, "", err
	}
	token := InitialAccessTokenPrefix + randomToken(32)
	now := s.now()
	t := storage.InitialAccessToken{
		WorkspaceID: wsID, ID: "iat_" + randomToken(12), Hash: HashToken(token),
		Description: in.Description, UsesLeft: -1, CreatedAt: now,
	}
	if in.ExpiresIn > 0 {
		t.ExpiresAt = now.Add(in.ExpiresIn)
	}
	if in.MaxUses > 0 {
		t.UsesLeft = in.MaxUses
	}
	if err := s.Store.CreateInitialAccessToken(ctx, t); err != nil {
		return storage.InitialAccessToken{}, "", mapStore(err, "initial access token", t.ID)
	}
	s.audit(ctx, wsID, AuditIATCreate, TargetIAT, t.ID, map[string]any{"description": t.Description, "uses": t.UsesLeft})
	return t, token, nil
}

// ListInitialAccessTokens returns the workspace's tokens (hashes only).
func (s *Service) ListInitialAccessTokens(ctx context.Context, wsID string) ([]storage.InitialAccessToken, error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return nil, err
	}
	return s.Store.ListInitialAccessTokens(ctx, wsID)
}

// DeleteInitialAccessToken revokes a token.
func (s *Service) DeleteInitialAccessToken(ctx context.Context, wsID, id string) error {
	if err := s.Store.DeleteInitialAccessToken(ctx, wsID, id); err != nil {
		return mapStore(err, "initial access token", id)
	}
	s.audit(ctx, wsID, AuditIATDelete, TargetIAT, id, nil)
	return nil
}

// ConsumeInitialAccessToken spends one use of the token with this bearer
// value. It returns ErrNotFound for unknown, expired or used-up tokens.
func (s *Service) ConsumeInitialAccessToken(ctx context.Context, wsID, token string) (storage.InitialAccessToken, error) {
	t, err := s.Store.ConsumeInitialAccessToken(ctx, wsID, HashToken(token), s.now())
	return t, mapStore(err, "initial access token", "")
}
