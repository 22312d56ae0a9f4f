package cache

import (
	"context"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// Every write of a cached kind goes to the wrapped store, then invalidates
// locally and notifies OnChange callbacks at once.

// CreateWorkspace writes through, then invalidates and notifies.
func (c *Store) CreateWorkspace(ctx context.Context, w storage.Workspace) error {
	defer c.wrote(w.ID, storage.ChangeWorkspace, "")
	return c.Storage.CreateWorkspace(ctx, w)
}

// UpdateWorkspace writes through, then invalidates and notifies.
func (c *Store) UpdateWorkspace(ctx context.Context, id string, updater func(storage.Workspace) (storage.Workspace, error)) (storage.Workspace, error) {
	defer c.wrote(id, storage.ChangeWorkspace, "")
	return c.Storage.UpdateWorkspace(ctx, id, updater)
}

// DeleteWorkspace writes through, then invalidates and notifies.
func (c *Store) DeleteWorkspace(ctx context.Context, id string) error {
	defer c.wrote(id, storage.ChangeWorkspace, "")
	return c.Storage.DeleteWorkspace(ctx, id)
}

// CreateService writes through, then invalidates and notifies.
func (c *Store) CreateService(ctx context.Context, s storage.Service) error {
	defer c.wrote(s.WorkspaceID, storage.ChangeService, s.ID)
	return c.Storage.CreateService(ctx, s)
}

// UpdateService writes through, then invalidates and notifies.
func (c *Store) UpdateService(ctx context.Context, workspaceID, id string, updater func(storage.Service) (storage.Service, error)) (storage.Service, error) {
	defer c.wrote(workspaceID, storage.ChangeService, id)
	return c.Storage.UpdateService(ctx, workspaceID, id, updater)
}

// DeleteService writes through, then invalidates and notifies.
func (c *Store) DeleteService(ctx context.Context, workspaceID, id string) error {
	defer c.wrote(workspaceID, storage.ChangeService, id)
	return c.Storage.DeleteService(ctx, workspaceID, id)
}

// CreateClient writes through, then invalidates and notifies.
func (c *Store) CreateClient(ctx context.Context, cl storage.Client) error {
	defer c.wrote(cl.WorkspaceID, storage.ChangeClient, cl.ID)
	return c.Storage.CreateClient(ctx, cl)
}

// CreateClientWithInitialAccessToken writes through, then invalidates and
// notifies, like CreateClient.
func (c *Store) CreateClientWithInitialAccessToken(ctx context.Context, cl storage.Client, hash []byte, now time.Time) error {
	defer c.wrote(cl.WorkspaceID, storage.ChangeClient, cl.ID)
	return c.Storage.CreateClientWithInitialAccessToken(ctx, cl, hash, now)
}

// UpdateClient writes through, then invalidates and notifies.
func (c *Store) UpdateClient(ctx context.Context, workspaceID, id string, updater func(storage.Client) (storage.Client, error)) (storage.Client, error) {
	defer c.wrote(workspaceID, storage.ChangeClient, id)
	return c.Storage.UpdateClient(ctx, workspaceID, id, updater)
}

// DeleteClient writes through, then invalidates and notifies.
func (c *Store) DeleteClient(ctx context.Context, workspaceID, id string) error {
	defer c.wrote(workspaceID, storage.ChangeClient, id)
	return c.Storage.DeleteClient(ctx, workspaceID, id)
}

// UpdateSigningKeys writes through, then invalidates and notifies.
func (c *Store) UpdateSigningKeys(ctx context.Context, workspaceID string, updater func([]storage.SigningKey) ([]storage.SigningKey, error)) ([]storage.SigningKey, error) {
	defer c.wrote(workspaceID, storage.ChangeKeys, "")
	return c.Storage.UpdateSigningKeys(ctx, workspaceID, updater)
}
