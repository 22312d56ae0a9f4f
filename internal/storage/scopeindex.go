package storage

import "context"

// ScopeIndex is a workspace's scope list (ListScopes) indexed by scope
// name and by service identifier. The cache builds one per change of the
// list and every request shares it, so that a token request in a
// workspace of a thousand services neither copies the list nor builds a
// map of it (docs/benchmarks.md "Goal 5 over 100,000 clients"). It is
// read only: nothing may change it or the slices of the refs it returns.
type ScopeIndex struct {
	refs     []ScopeRef
	byName   map[string]int
	services map[string]struct{}
}

// NewScopeIndex indexes refs, which it keeps: the caller must not change
// them afterwards. Scope names are unique in a workspace (the scopes
// table's primary key); should one repeat, the first is found.
func NewScopeIndex(refs []ScopeRef) *ScopeIndex {
	x := &ScopeIndex{refs: refs, byName: make(map[string]int, len(refs)), services: map[string]struct{}{}}
	for i, r := range refs {
		if _, dup := x.byName[r.Name]; !dup {
			x.byName[r.Name] = i
		}
		x.services[r.ServiceIdentifier] = struct{}{}
	}
	return x
}

// Lookup returns the scope named name.
func (x *ScopeIndex) Lookup(name string) (ScopeRef, bool) {
	i, ok := x.byName[name]
	if !ok {
		return ScopeRef{}, false
	}
	return x.refs[i], true
}

// Has reports whether the workspace defines the scope name.
func (x *ScopeIndex) Has(name string) bool {
	_, ok := x.byName[name]
	return ok
}

// ServiceOf returns the identifier of the service defining scope name.
func (x *ScopeIndex) ServiceOf(name string) (string, bool) {
	i, ok := x.byName[name]
	if !ok {
		return "", false
	}
	return x.refs[i].ServiceIdentifier, true
}

// HasService reports whether a service with this identifier defines at
// least one scope of the workspace.
func (x *ScopeIndex) HasService(identifier string) bool {
	_, ok := x.services[identifier]
	return ok
}

// RefsOf returns the scopes among names that exist, once each, in the
// order of names: what the per-scope lookups of access policies and
// claim owners need, without the rest of the list.
func (x *ScopeIndex) RefsOf(names []string) []ScopeRef {
	var out []ScopeRef
	for _, n := range names {
		i, ok := x.byName[n]
		if !ok {
			continue
		}
		dup := false
		for _, r := range out {
			dup = dup || r.Name == n
		}
		if !dup {
			out = append(out, x.refs[i])
		}
	}
	return out
}

// Refs returns a copy of the whole list, ordered by name; never nil.
func (x *ScopeIndex) Refs() []ScopeRef {
	return append([]ScopeRef{}, x.refs...)
}

// Len is the number of scopes.
func (x *ScopeIndex) Len() int { return len(x.refs) }

// ScopeLister reads a workspace's scope list.
type ScopeLister interface {
	ListScopes(ctx context.Context, workspaceID string) ([]ScopeRef, error)
}

// scopeIndexer is a store that keeps a shared index per workspace (the
// cached store, internal/cache).
type scopeIndexer interface {
	ScopeIndex(ctx context.Context, workspaceID string) (*ScopeIndex, error)
}

// IndexScopes returns the workspace's scope index: the one s shares when
// it keeps one (the cached store), else an index of the list s reads now.
// Per request, the shared index costs neither a copy of the list nor a map
// of it.
func IndexScopes(ctx context.Context, s ScopeLister, workspaceID string) (*ScopeIndex, error) {
	if ix, ok := s.(scopeIndexer); ok {
		return ix.ScopeIndex(ctx, workspaceID)
	}
	refs, err := s.ListScopes(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	return NewScopeIndex(refs), nil
}
