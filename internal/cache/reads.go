package cache

import (
	"bytes"
	"context"
	"maps"
	"slices"

	"github.com/latchkey/latchkey/internal/storage"
)

// GetWorkspace serves the workspace from memory when cached.
func (c *Store) GetWorkspace(ctx context.Context, id string) (storage.Workspace, error) {
	if !c.bypass.Load() {
		c.mu.RLock()
		w, ok := c.workspaces[id]
		c.mu.RUnlock()
		if ok {
			return copyWorkspace(w), nil
		}
	}
	gen, cacheable := c.generation()
	w, err := c.Storage.GetWorkspace(ctx, id)
	if err != nil || !cacheable {
		return w, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.workspaces[id] = copyWorkspace(w)
	}
	c.mu.Unlock()
	return w, nil
}

// GetClient serves the client from memory when cached.
func (c *Store) GetClient(ctx context.Context, workspaceID, id string) (storage.Client, error) {
	key := clientKey{workspaceID, id}
	if !c.bypass.Load() {
		c.mu.RLock()
		cl, ok := c.clients[key]
		c.mu.RUnlock()
		if ok {
			return copyClient(cl), nil
		}
	}
	gen, cacheable := c.generation()
	cl, err := c.Storage.GetClient(ctx, workspaceID, id)
	if err != nil || !cacheable {
		return cl, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.clients[key] = copyClient(cl)
	}
	c.mu.Unlock()
	return cl, nil
}

// ListScopes serves the workspace's scopes from memory when cached.
func (c *Store) ListScopes(ctx context.Context, workspaceID string) ([]storage.ScopeRef, error) {
	if !c.bypass.Load() {
		c.mu.RLock()
		refs, ok := c.scopes[workspaceID]
		c.mu.RUnlock()
		if ok {
			return slices.Clone(refs), nil
		}
	}
	gen, cacheable := c.generation()
	refs, err := c.Storage.ListScopes(ctx, workspaceID)
	if err != nil || !cacheable {
		return refs, err
	}
	c.mu.Lock()
	if c.gen == gen {
		// A non-nil empty slice marks "cached, no scopes".
		c.scopes[workspaceID] = append([]storage.ScopeRef{}, refs...)
	}
	c.mu.Unlock()
	return refs, nil
}

func copyWorkspace(w storage.Workspace) storage.Workspace {
	w.Settings.AllowedAuthMethods = slices.Clone(w.Settings.AllowedAuthMethods)
	return w
}

// copyClient deep-copies every reference field of a client.
func copyClient(c storage.Client) storage.Client {
	c.GrantTypes = slices.Clone(c.GrantTypes)
	c.ResponseTypes = slices.Clone(c.ResponseTypes)
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.Scopes = slices.Clone(c.Scopes)
	c.JWKS = bytes.Clone(c.JWKS)
	c.Metadata = maps.Clone(c.Metadata)
	c.SecretCiphertext = bytes.Clone(c.SecretCiphertext)
	c.RegistrationAccessTokenHash = bytes.Clone(c.RegistrationAccessTokenHash)
	if c.Extra != nil {
		c.Extra = deepCopyMap(c.Extra)
	}
	return c
}

// deepCopyMap copies JSON-shaped values (maps, slices, scalars).
func deepCopyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopyValue(v)
	}
	return out
}

func deepCopyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return deepCopyMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopyValue(e)
		}
		return out
	case []string:
		return slices.Clone(x)
	case []byte:
		return bytes.Clone(x)
	}
	return v
}
