package cache

import (
	"context"
	"slices"

	"github.com/latchkey/latchkey/internal/storage"
)

// Policies are read on the hot path (authorization, token endpoint): the
// current version is cached like clients, invalidated by a write here at
// once and by another process's write within PollInterval (ChangePolicy).

// GetPolicy serves the current version of a policy from memory when cached.
func (c *Store) GetPolicy(ctx context.Context, workspaceID, id string) (storage.Policy, error) {
	return readThrough(c, &c.policies, clientKey{workspaceID, id}, copyPolicy, func() (storage.Policy, error) {
		return c.Storage.GetPolicy(ctx, workspaceID, id)
	})
}

func copyPolicy(p storage.Policy) storage.Policy {
	p.Rules = slices.Clone(p.Rules)
	return p
}

func (c *Store) dropPoliciesLocked(ws string) {
	c.policies.removeIf(func(k clientKey) bool { return k.workspace == ws })
}

// CreatePolicy writes through, then invalidates and notifies.
func (c *Store) CreatePolicy(ctx context.Context, p storage.Policy) error {
	defer c.wrote(p.WorkspaceID, storage.ChangePolicy, p.ID)
	return c.Storage.CreatePolicy(ctx, p)
}

// UpdatePolicy writes through, then invalidates and notifies.
func (c *Store) UpdatePolicy(ctx context.Context, workspaceID, id string, updater func(storage.Policy) (storage.Policy, error)) (storage.Policy, error) {
	defer c.wrote(workspaceID, storage.ChangePolicy, id)
	return c.Storage.UpdatePolicy(ctx, workspaceID, id, updater)
}

// DeletePolicy writes through, then invalidates and notifies.
func (c *Store) DeletePolicy(ctx context.Context, workspaceID, id string) error {
	defer c.wrote(workspaceID, storage.ChangePolicy, id)
	return c.Storage.DeletePolicy(ctx, workspaceID, id)
}
