package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// AdminTokenPrefix starts every admin API token, so that a leaked one is
// recognisable (e.g. by secret scanners).
const AdminTokenPrefix = "lka_"

// Limits of admin tokens.
const (
	maxAdminTokenName      = 100
	maxAdminTokenExpiresIn = 5 * 365 * 24 * time.Hour
)

// Audit actions and target of admin tokens.
const (
	AuditAdminTokenCreate = "admin_token.create"
	AuditAdminTokenDelete = "admin_token.delete"
	// AuditAdminTokenUpdate records a token losing a deleted workspace
	// (auditAdminTokensOfDeletedWorkspace); tokens change no other way.
	AuditAdminTokenUpdate = "admin_token.update"
	TargetAdminToken      = "admin_token"
)

// AdminTokenInput creates a scoped admin API token (docs/security.md O5).
type AdminTokenInput struct {
	Name       string
	Role       string
	Workspaces []string
	ExpiresIn  time.Duration // 0: never expires
}

// CreateAdminToken validates in and stores a new admin token, hashed; the
// token value is returned once and never stored.
func (s *Service) CreateAdminToken(ctx context.Context, in AdminTokenInput) (storage.AdminToken, string, error) {
	var v validator
	if v.required("name", in.Name) && v.maxLen("name", in.Name, maxAdminTokenName) {
		v.identifier("name", in.Name)
	}
	v.check(in.ExpiresIn >= 0 && in.ExpiresIn <= maxAdminTokenExpiresIn, "expires_in", "range",
		"must be 0 (never) or at most %s", maxAdminTokenExpiresIn)
	if roleShape(&v, in.Role, in.Workspaces) {
		for i, ws := range in.Workspaces {
			_, err := s.Store.GetWorkspace(ctx, ws)
			v.check(err == nil, fmt.Sprintf("workspaces[%d]", i), "exists", "workspace %q does not exist", truncate(ws, 64))
		}
	}
	if err := v.err(); err != nil {
		return storage.AdminToken{}, "", err
	}
	token := AdminTokenPrefix + randomToken(32)
	now := s.now()
	actor, _ := ActorFrom(ctx)
	t := storage.AdminToken{
		ID: "adt_" + randomToken(12), Name: in.Name, Hash: HashToken(token), CreatedAt: now,
		Role: in.Role, Workspaces: in.Workspaces, CreatedBy: actor.Name,
	}
	if in.ExpiresIn > 0 {
		t.ExpiresAt = now.Add(in.ExpiresIn)
	}
	if err := s.Store.CreateAdminToken(ctx, t); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			// A workspace checked above was deleted since: the store
			// refuses a token naming it (docs/security.md O2).
			v.add("workspaces", "exists", "a workspace was deleted while the token was being created")
			return storage.AdminToken{}, "", v.err()
		}
		return storage.AdminToken{}, "", mapStore(err, "admin token", t.ID)
	}
	s.audit(ctx, "", AuditAdminTokenCreate, TargetAdminToken, t.ID, map[string]any{
		"name": t.Name, "role": t.Role, "workspaces": t.Workspaces,
	})
	return t, token, nil
}

// ListAdminTokens returns every admin token (never a token value).
func (s *Service) ListAdminTokens(ctx context.Context) ([]storage.AdminToken, error) {
	return s.Store.ListAdminTokens(ctx)
}

// DeleteAdminToken revokes an admin token. Every process looks tokens up
// in the database on each request, so the revocation takes effect at once
// everywhere (docs/security.md O5).
func (s *Service) DeleteAdminToken(ctx context.Context, id string) error {
	if err := s.Store.DeleteAdminToken(ctx, id); err != nil {
		return mapStore(err, "admin token", id)
	}
	s.audit(ctx, "", AuditAdminTokenDelete, TargetAdminToken, id, nil)
	return nil
}

// adminTokensOf returns the admin tokens that name workspace ws.
func (s *Service) adminTokensOf(ctx context.Context, ws string) ([]storage.AdminToken, error) {
	all, err := s.Store.ListAdminTokens(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(t storage.AdminToken) bool { return !slices.Contains(t.Workspaces, ws) }), nil
}

// auditAdminTokensOfDeletedWorkspace records what deleting workspace ws
// did to tokens (read just before the deletion), as the token routes
// record their own changes: the store deleted a token of ws alone and
// took ws out of the others (storage.AdminToken.WithoutWorkspace,
// docs/security.md O5). A token created for ws between that read and the
// deletion is narrowed unrecorded; its admin_token.create event names ws.
func (s *Service) auditAdminTokensOfDeletedWorkspace(ctx context.Context, ws string, tokens []storage.AdminToken) {
	for _, t := range tokens {
		next, keep, changed := t.WithoutWorkspace(ws)
		switch {
		case !changed:
		case !keep:
			s.audit(ctx, "", AuditAdminTokenDelete, TargetAdminToken, t.ID, map[string]any{
				"name": t.Name, "reason": AuditWorkspaceDelete, "workspace": ws,
			})
		default:
			s.audit(ctx, "", AuditAdminTokenUpdate, TargetAdminToken, t.ID, map[string]any{
				"name": t.Name, "reason": AuditWorkspaceDelete, "workspace": ws, "workspaces": next.Workspaces,
			})
		}
	}
}
