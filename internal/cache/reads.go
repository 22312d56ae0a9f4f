package cache

import (
	"bytes"
	"context"
	"maps"
	"slices"

	"github.com/latchkey/latchkey/internal/storage"
)

// readThrough serves key from *m when cached, as a copy so that callers
// cannot alter the cache, and otherwise loads it and caches a copy, unless
// an invalidation ran meanwhile (gen) or the change feed cannot be read
// (bypass). Errors, misses included, are not cached, so a new entry works
// at once. m is a field of c, guarded by c.mu.
func readThrough[K comparable, V any](c *Store, m *bounded[K, V], key K, clone func(V) V, load func() (V, error)) (V, error) {
	if !c.bypass.Load() {
		c.mu.RLock()
		v, ok := m.get(key)
		c.mu.RUnlock()
		if ok {
			return clone(v), nil
		}
	}
	gen, cacheable := c.generation()
	v, err := load()
	if err != nil || !cacheable {
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen {
		m.put(key, clone(v))
	}
	c.mu.Unlock()
	return v, nil
}

// GetWorkspace serves the workspace from memory when cached.
func (c *Store) GetWorkspace(ctx context.Context, id string) (storage.Workspace, error) {
	return readThrough(c, &c.workspaces, id, copyWorkspace, func() (storage.Workspace, error) {
		return c.Storage.GetWorkspace(ctx, id)
	})
}

// GetClient serves the client from memory when cached.
func (c *Store) GetClient(ctx context.Context, workspaceID, id string) (storage.Client, error) {
	return readThrough(c, &c.clients, clientKey{workspaceID, id}, copyClient, func() (storage.Client, error) {
		return c.Storage.GetClient(ctx, workspaceID, id)
	})
}

// ListScopes serves the workspace's scopes from memory when cached: a
// copy, which the caller may change.
func (c *Store) ListScopes(ctx context.Context, workspaceID string) ([]storage.ScopeRef, error) {
	x, err := c.ScopeIndex(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	return x.Refs(), nil
}

// ScopeIndex serves the workspace's scopes indexed, built once per change
// of the list and shared by every caller (read only, storage.ScopeIndex).
func (c *Store) ScopeIndex(ctx context.Context, workspaceID string) (*storage.ScopeIndex, error) {
	return readThrough(c, &c.scopes, workspaceID, shareIndex, func() (*storage.ScopeIndex, error) {
		refs, err := c.Storage.ListScopes(ctx, workspaceID)
		if err != nil {
			return nil, err
		}
		return storage.NewScopeIndex(refs), nil
	})
}

// shareIndex is readThrough's copy for an index: none, it is read only.
func shareIndex(x *storage.ScopeIndex) *storage.ScopeIndex { return x }

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
	if c.ClaimMappings != nil {
		c.ClaimMappings = slices.Clone(c.ClaimMappings)
		for i := range c.ClaimMappings {
			c.ClaimMappings[i].Targets = slices.Clone(c.ClaimMappings[i].Targets)
		}
	}
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
