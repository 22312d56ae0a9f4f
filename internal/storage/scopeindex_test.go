package storage

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestScopeIndex(t *testing.T) {
	refs := []ScopeRef{
		{Scope: Scope{Name: "a:read"}, ServiceID: "a", ServiceIdentifier: "https://a", AccessPolicyID: "pa"},
		{Scope: Scope{Name: "a:write"}, ServiceID: "a", ServiceIdentifier: "https://a"},
		{Scope: Scope{Name: "b:read"}, ServiceID: "b", ServiceIdentifier: "https://b"},
	}
	x := NewScopeIndex(refs)
	if id, ok := x.ServiceOf("a:write"); !ok || id != "https://a" {
		t.Fatalf("ServiceOf(a:write) = %q, %v", id, ok)
	}
	if _, ok := x.ServiceOf("c:read"); ok {
		t.Fatal("an unknown scope was found")
	}
	if r, ok := x.Lookup("a:read"); !ok || r.AccessPolicyID != "pa" {
		t.Fatalf("Lookup(a:read) = %+v, %v", r, ok)
	}
	if !x.HasService("https://b") || x.HasService("https://c") || x.HasService("b") {
		t.Fatal("HasService answers by service identifier only")
	}
	got := x.RefsOf([]string{"b:read", "nope", "a:read", "b:read"})
	if names := []string{got[0].Name, got[1].Name}; len(got) != 2 || !slices.Equal(names, []string{"b:read", "a:read"}) {
		t.Fatalf("RefsOf: %+v", got)
	}
	all := x.Refs()
	all[0].Name = "changed"
	if r, _ := x.Lookup("a:read"); r.Name != "a:read" || x.Len() != 3 {
		t.Fatal("a change to Refs' copy reached the index")
	}
	if empty := NewScopeIndex(nil).Refs(); empty == nil || len(empty) != 0 {
		t.Fatalf("Refs of an empty index = %#v, want empty and not nil", empty)
	}
}

// listOnly is a store without a shared index; indexed adds one.
type listOnly struct {
	refs  []ScopeRef
	err   error
	calls int
}

func (l *listOnly) ListScopes(context.Context, string) ([]ScopeRef, error) {
	l.calls++
	return l.refs, l.err
}

type indexed struct {
	listOnly
	idx *ScopeIndex
}

func (i *indexed) ScopeIndex(context.Context, string) (*ScopeIndex, error) { return i.idx, nil }

// IndexScopes uses the store's shared index when it has one (without
// reading the list) and indexes the list otherwise; a failed read is
// returned, never an empty index.
func TestIndexScopes(t *testing.T) {
	refs := []ScopeRef{{Scope: Scope{Name: "orders:read"}, ServiceIdentifier: "https://api"}}
	shared := NewScopeIndex(refs)
	st := &indexed{idx: shared}
	got, err := IndexScopes(t.Context(), st, "ws")
	if err != nil || got != shared || st.calls != 0 {
		t.Fatalf("shared index: got %p (want %p), err %v, ListScopes called %d times", got, shared, err, st.calls)
	}
	plain := &listOnly{refs: refs}
	got, err = IndexScopes(t.Context(), plain, "ws")
	if err != nil || plain.calls != 1 || !got.HasService("https://api") {
		t.Fatalf("list only: err %v, calls %d, index %+v", err, plain.calls, got)
	}
	failing := &listOnly{err: errors.New("database down")}
	if got, err := IndexScopes(t.Context(), failing, "ws"); err == nil || got != nil {
		t.Fatalf("failed read: got %v, err %v", got, err)
	}
}
