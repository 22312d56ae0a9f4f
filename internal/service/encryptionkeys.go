package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// Audit actions and target of the request object encryption keys.
const (
	AuditEncryptionKeyRotate = "encryption_keys.rotate"
	AuditEncryptionKeyRemove = "encryption_keys.remove"
	TargetEncryptionKey      = "encryption_key"
)

// EncryptionKeyManager manages the workspaces' request object
// encryption keys (normally a *signing.EncryptionKeys).
type EncryptionKeyManager interface {
	List(ctx context.Context, wsID string) ([]storage.EncryptionKey, error)
	Rotate(ctx context.Context, wsID string) error
	Remove(ctx context.Context, wsID, kid string) error
}

// EncryptionKeyInfo is the public metadata of a request object
// encryption key: never private material (SECURITY.md O6).
type EncryptionKeyInfo struct {
	KID       string
	Alg       string
	State     string // storage.EncryptionKeyActive or EncryptionKeyPrevious
	CreatedAt time.Time
	RetiredAt time.Time // zero while active
}

var errNoEncryptionKeys = errors.New("service: request object encryption keys are not configured")

// ListEncryptionKeys returns the metadata of the workspace's request
// object encryption keys, the active key first (creating the first key
// when the workspace has none, as its JWKS would).
func (s *Service) ListEncryptionKeys(ctx context.Context, wsID string) ([]EncryptionKeyInfo, error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return nil, err
	}
	if s.EncryptionKeys == nil {
		return nil, errNoEncryptionKeys
	}
	keys, err := s.EncryptionKeys.List(ctx, wsID)
	if err != nil {
		return nil, fmt.Errorf("service: list encryption keys of workspace %q: %w", wsID, err)
	}
	out := make([]EncryptionKeyInfo, len(keys))
	for i, k := range keys {
		out[i] = EncryptionKeyInfo{KID: k.KID, Alg: k.Alg, State: k.State, CreatedAt: k.CreatedAt, RetiredAt: k.RetiredAt}
	}
	return out, nil
}

// RotateEncryptionKeys creates a new active request object encryption
// key, published first in the JWKS, and keeps the active key before it
// as a previous key that still decrypts until it is removed
// (RemoveEncryptionKey), so clients that cached the JWKS keep working
// through the overlap (docs/security.md T12a).
func (s *Service) RotateEncryptionKeys(ctx context.Context, wsID string) ([]EncryptionKeyInfo, error) {
	before, err := s.ListEncryptionKeys(ctx, wsID)
	if err != nil {
		return nil, err
	}
	if err := s.EncryptionKeys.Rotate(ctx, wsID); err != nil {
		return nil, fmt.Errorf("service: rotate encryption keys of workspace %q: %w", wsID, err)
	}
	after, err := s.ListEncryptionKeys(ctx, wsID)
	if err != nil {
		return nil, err
	}
	details := map[string]any{"alg": after[0].Alg}
	if len(before) > 0 {
		details["previous_kid"] = before[0].KID
	}
	s.audit(ctx, wsID, AuditEncryptionKeyRotate, TargetEncryptionKey, after[0].KID, details)
	return after, nil
}

// RemoveEncryptionKey deletes a previous request object encryption key
// at once: it leaves the JWKS, and request objects encrypted to it are
// refused with invalid_request_object. The active key cannot be removed.
func (s *Service) RemoveEncryptionKey(ctx context.Context, wsID, kid string) error {
	keys, err := s.ListEncryptionKeys(ctx, wsID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.KID != kid {
			continue
		}
		if k.State == storage.EncryptionKeyActive {
			return conflict(nil, "key %q is the active request object encryption key: rotate the encryption keys first, then remove it", kid)
		}
		if err := s.EncryptionKeys.Remove(ctx, wsID, kid); err != nil {
			return mapStore(err, "encryption key", kid)
		}
		s.audit(ctx, wsID, AuditEncryptionKeyRemove, TargetEncryptionKey, kid, map[string]any{"alg": k.Alg})
		return nil
	}
	return notFound("encryption key %s not found", quoteID(kid))
}
