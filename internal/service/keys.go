package service

import (
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// KeyInfo is the public metadata of a signing key: never private material.
type KeyInfo struct {
	KID         string
	Alg         string
	State       string
	CreatedAt   time.Time
	ActivatedAt time.Time
	RetiredAt   time.Time
	RetireUntil time.Time
}

// ListKeys returns the metadata of the workspace's signing keys.
func (s *Service) ListKeys(ctx context.Context, wsID string) ([]KeyInfo, error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return nil, err
	}
	keys, err := s.Keys.Keys(ctx, wsID)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, len(keys))
	for i, k := range keys {
		out[i] = keyInfo(k)
	}
	return out, nil
}

func keyInfo(k storage.SigningKey) KeyInfo {
	return KeyInfo{
		KID: k.KID, Alg: k.Alg, State: k.State, CreatedAt: k.CreatedAt,
		ActivatedAt: k.ActivatedAt, RetiredAt: k.RetiredAt, RetireUntil: k.RetireUntil,
	}
}

// RotateKeys promotes next→active, active→retired and publishes a new next
// key (SECURITY.md P2). alg "" keeps the workspace's algorithm; another
// algorithm also becomes the workspace setting, so scheduled rotations
// keep it.
func (s *Service) RotateKeys(ctx context.Context, wsID, alg string) ([]KeyInfo, error) {
	ws, err := s.requireWorkspace(ctx, wsID)
	if err != nil {
		return nil, err
	}
	if alg != "" && !contains(oauth2.SigningAlgs, alg) {
		var v validator
		v.add("alg", "enum", "must be one of %v", oauth2.SigningAlgs)
		return nil, v.err()
	}
	if err := checkFAPIRotation(ws, alg); err != nil { // FAPI 2.0 (fapi.go)
		return nil, err
	}
	if err := s.Keys.Rotate(ctx, wsID, alg); err != nil {
		return nil, fmt.Errorf("service: rotate keys of workspace %q: %w", wsID, err)
	}
	s.audit(ctx, wsID, AuditKeysRotate, TargetKey, "", map[string]any{"alg": alg})
	if alg != "" && alg != ws.Settings.SigningAlg {
		if _, err := s.Store.UpdateWorkspace(ctx, wsID, func(w storage.Workspace) (storage.Workspace, error) {
			w.Settings.SigningAlg, w.UpdatedAt = alg, s.now()
			return w, nil
		}); err != nil {
			return nil, mapStore(err, "workspace", wsID)
		}
	}
	return s.ListKeys(ctx, wsID)
}

// RemoveKey deletes a key at once (emergency revocation, SECURITY.md P4):
// it leaves the JWKS, and tokens it signed no longer verify. Removing the
// active key leaves the workspace unable to sign until the next rotation,
// so that is refused: rotate first, then remove the retired key.
func (s *Service) RemoveKey(ctx context.Context, wsID, kid string) error {
	keys, err := s.ListKeys(ctx, wsID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.KID != kid {
			continue
		}
		if k.State == storage.KeyActive {
			return conflict(nil, "key %q is the active signing key: rotate the keys first, then remove it", kid)
		}
		if err := s.Keys.RemoveKey(ctx, wsID, kid); err != nil {
			return mapStore(err, "key", kid)
		}
		s.audit(ctx, wsID, AuditKeyRemove, TargetKey, kid, map[string]any{"state": k.State})
		return nil
	}
	return notFound("key %s not found", quoteID(kid))
}
