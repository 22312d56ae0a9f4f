package policy

import (
	"slices"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
)

// TestApplicable: the one selection of attached policies both endpoints
// use, one row per rule.
func TestApplicable(t *testing.T) {
	ws := storage.Workspace{ID: "w", Settings: storage.WorkspaceSettings{DefaultUserPolicyID: "default-user"}}
	own := storage.Client{UserPolicyID: "own-user", MachinePolicyID: "machine"}
	bare := storage.Client{}
	ref := func(name, policy string) storage.ScopeRef {
		return storage.ScopeRef{Scope: storage.Scope{Name: name}, AccessPolicyID: policy}
	}
	refs := []storage.ScopeRef{ref("a", "pa"), ref("b", "pb"), ref("c", "pa"), ref("d", "")}
	cases := []struct {
		name   string
		kind   string
		ws     storage.Workspace
		c      storage.Client
		scopes []string
		want   []string
	}{
		{"client's user policy", storage.PolicyKindUser, ws, own, nil, []string{"own-user"}},
		{"workspace default", storage.PolicyKindUser, ws, bare, nil, []string{"default-user"}},
		{"no user policy", storage.PolicyKindUser, storage.Workspace{}, bare, nil, nil},
		{"machine", storage.PolicyKindMachine, ws, own, nil, []string{"machine"}},
		{"no machine policy (no default)", storage.PolicyKindMachine, ws, bare, nil, nil},
		{"access in scope order without repeats", storage.PolicyKindAccess, ws, bare, []string{"c", "d", "b", "a"}, []string{"pa", "pb"}},
		{"unknown kind", "other", ws, own, []string{"a"}, nil},
	}
	for _, tc := range cases {
		if got := Applicable(tc.kind, tc.ws, tc.c, refs, tc.scopes); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
