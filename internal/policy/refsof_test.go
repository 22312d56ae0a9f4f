package policy

import (
	"reflect"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// TestOwnersFromIndexedRefs: the token endpoint passes ServiceOwners and
// AccessPolicies only the refs of the granted scopes
// (storage.ScopeIndex.RefsOf); they answer exactly as with the whole list.
func TestOwnersFromIndexedRefs(t *testing.T) {
	mapping := []storage.ClaimMapping{{Name: "tier", Expression: `"gold"`, Targets: []string{"access_token"}}}
	at := time.Unix(1700000000, 0)
	all := []storage.ScopeRef{
		{Scope: storage.Scope{Name: "a:read"}, ServiceID: "a", ServiceIdentifier: "https://a", AccessPolicyID: "pa", ServiceClaimMappings: mapping, ServiceUpdatedAt: at},
		{Scope: storage.Scope{Name: "a:write"}, ServiceID: "a", ServiceIdentifier: "https://a", AccessPolicyID: "pa", ServiceClaimMappings: mapping, ServiceUpdatedAt: at},
		{Scope: storage.Scope{Name: "b:read"}, ServiceID: "b", ServiceIdentifier: "https://b"},
		{Scope: storage.Scope{Name: "c:read"}, ServiceID: "c", ServiceIdentifier: "https://c", AccessPolicyID: "pc", ServiceClaimMappings: mapping, ServiceUpdatedAt: at},
	}
	idx := storage.NewScopeIndex(all)
	for _, scopes := range [][]string{nil, {"b:read"}, {"c:read", "a:write", "a:read"}, {"a:read", "gone", "c:read", "a:read"}} {
		sub := idx.RefsOf(scopes)
		if got, want := ServiceOwners(sub, scopes), ServiceOwners(all, scopes); !reflect.DeepEqual(got, want) {
			t.Errorf("ServiceOwners(%v): %+v from the granted refs, %+v from all", scopes, got, want)
		}
		if got, want := AccessPolicies(sub, scopes), AccessPolicies(all, scopes); !reflect.DeepEqual(got, want) {
			t.Errorf("AccessPolicies(%v): %v from the granted refs, %v from all", scopes, got, want)
		}
	}
}
