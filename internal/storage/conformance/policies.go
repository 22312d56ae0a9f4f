package conformance

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

func newPolicy(ws, id string) storage.Policy {
	return storage.Policy{
		WorkspaceID: ws, ID: id, Name: "Policy " + id, Description: "d", Kind: storage.PolicyKindUser,
		Rules: []storage.PolicyRule{
			{Condition: `!user.service_user`, Outcome: storage.PolicyDeny, Message: "service users only"},
			{Condition: "true", Outcome: storage.PolicyAllow},
		},
		CreatedAt: at(0), UpdatedAt: at(0),
	}
}

func testPolicies(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "acme")
	p := newPolicy("acme", "p1")
	p.Version = 7 // ignored: a new policy is version 1
	must(t, s.CreatePolicy(ctx, p))
	wantErr(t, s.CreatePolicy(ctx, newPolicy("acme", "p1")), storage.ErrAlreadyExists, "duplicate policy")

	got, err := s.GetPolicy(ctx, "acme", "p1")
	must(t, err)
	if got.Version != 1 || !reflect.DeepEqual(got.Rules, p.Rules) || got.Kind != storage.PolicyKindUser || got.Name != p.Name {
		t.Fatalf("GetPolicy = %+v", got)
	}
	sameTime(t, "created", got.CreatedAt, p.CreatedAt)

	up, err := s.UpdatePolicy(ctx, "acme", "p1", func(p storage.Policy) (storage.Policy, error) {
		p.Rules = p.Rules[1:]
		p.Description = "allow all"
		p.Version = 99 // ignored: the store numbers versions
		p.ID = "other" // ignored
		p.UpdatedAt = at(time.Hour)
		return p, nil
	})
	must(t, err)
	if up.Version != 2 || up.ID != "p1" || len(up.Rules) != 1 {
		t.Fatalf("UpdatePolicy = %+v", up)
	}
	boom := errors.New("boom")
	_, err = s.UpdatePolicy(ctx, "acme", "p1", func(p storage.Policy) (storage.Policy, error) { return p, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("updater error = %v", err)
	}
	_, err = s.UpdatePolicy(ctx, "acme", "nope", func(p storage.Policy) (storage.Policy, error) { return p, nil })
	wantErr(t, err, storage.ErrNotFound, "update missing policy")

	versions, err := s.ListPolicyVersions(ctx, "acme", "p1")
	must(t, err)
	if len(versions) != 2 || versions[0].Version != 2 || versions[1].Version != 1 || len(versions[1].Rules) != 2 {
		t.Fatalf("ListPolicyVersions = %+v", versions)
	}
	v1, err := s.GetPolicyVersion(ctx, "acme", "p1", 1)
	must(t, err)
	if !reflect.DeepEqual(v1.Rules, p.Rules) || v1.Description != "d" {
		t.Fatalf("GetPolicyVersion(1) = %+v", v1)
	}
	_, err = s.GetPolicyVersion(ctx, "acme", "p1", 3)
	wantErr(t, err, storage.ErrNotFound, "missing version")

	must(t, s.CreatePolicy(ctx, newPolicy("acme", "p2")))
	page, err := s.ListPolicies(ctx, "acme", storage.ListOptions{})
	must(t, err)
	if len(page.Items) != 2 || page.Items[0].ID != "p1" || page.Items[1].ID != "p2" {
		t.Fatalf("ListPolicies = %+v", page)
	}

	must(t, s.DeletePolicy(ctx, "acme", "p1"))
	wantErr(t, s.DeletePolicy(ctx, "acme", "p1"), storage.ErrNotFound, "delete twice")
	_, err = s.GetPolicy(ctx, "acme", "p1")
	wantErr(t, err, storage.ErrNotFound, "deleted policy")
	_, err = s.ListPolicyVersions(ctx, "acme", "p1")
	wantErr(t, err, storage.ErrNotFound, "versions of a deleted policy")
	// A new policy with the old ID starts a new history.
	must(t, s.CreatePolicy(ctx, newPolicy("acme", "p1")))
	versions, err = s.ListPolicyVersions(ctx, "acme", "p1")
	must(t, err)
	if len(versions) != 1 {
		t.Fatalf("history of a recreated policy = %+v", versions)
	}
}

func testPolicyChanges(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "acme")
	last, err := s.LastChangeID(ctx)
	must(t, err)
	must(t, s.CreatePolicy(ctx, newPolicy("acme", "p1")))
	_, err = s.UpdatePolicy(ctx, "acme", "p1", func(p storage.Policy) (storage.Policy, error) { return p, nil })
	must(t, err)
	must(t, s.DeletePolicy(ctx, "acme", "p1"))
	changes, err := s.Changes(ctx, last, 100)
	must(t, err)
	n := 0
	for _, c := range changes {
		if c.Kind == storage.ChangePolicy && c.WorkspaceID == "acme" && c.Key == "p1" {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("policy change events = %d, want 3 (%+v)", n, changes)
	}
}

func isolationPolicies(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePolicy(ctx, newPolicy("a", "p")))
	_, err := s.GetPolicy(ctx, "b", "p")
	wantErr(t, err, storage.ErrNotFound, "other workspace's policy")
	_, err = s.ListPolicyVersions(ctx, "b", "p")
	wantErr(t, err, storage.ErrNotFound, "other workspace's versions")
	_, err = s.GetPolicyVersion(ctx, "b", "p", 1)
	wantErr(t, err, storage.ErrNotFound, "other workspace's version")
	_, err = s.UpdatePolicy(ctx, "b", "p", func(p storage.Policy) (storage.Policy, error) { return p, nil })
	wantErr(t, err, storage.ErrNotFound, "update other workspace's policy")
	wantErr(t, s.DeletePolicy(ctx, "b", "p"), storage.ErrNotFound, "delete other workspace's policy")
	must(t, s.CreatePolicy(ctx, newPolicy("b", "p")))
	page, err := s.ListPolicies(ctx, "b", storage.ListOptions{})
	must(t, err)
	if len(page.Items) != 1 || page.Items[0].WorkspaceID != "b" {
		t.Fatalf("ListPolicies(b) = %+v", page)
	}
	must(t, s.DeleteWorkspace(ctx, "a"))
	if _, err := s.GetPolicy(ctx, "b", "p"); err != nil {
		t.Fatalf("b's policy after deleting a: %v", err)
	}
}

// testServiceAccessPolicy: a service's access policy round-trips through
// create, update, get, list and the scope catalog (ListScopes), which the
// hot path reads.
func testServiceAccessPolicy(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "acme")
	svc := newService("acme", "api", "api:read")
	svc.AccessPolicyID = "p1"
	must(t, s.CreateService(ctx, svc))
	got, err := s.GetService(ctx, "acme", "api")
	must(t, err)
	if got.AccessPolicyID != "p1" {
		t.Fatalf("GetService access policy = %q", got.AccessPolicyID)
	}
	refs, err := s.ListScopes(ctx, "acme")
	must(t, err)
	if len(refs) != 1 || refs[0].AccessPolicyID != "p1" {
		t.Fatalf("ListScopes = %+v", refs)
	}
	_, err = s.UpdateService(ctx, "acme", "api", func(sv storage.Service) (storage.Service, error) {
		sv.AccessPolicyID = ""
		return sv, nil
	})
	must(t, err)
	page, err := s.ListServices(ctx, "acme", storage.ListOptions{})
	must(t, err)
	if len(page.Items) != 1 || page.Items[0].AccessPolicyID != "" {
		t.Fatalf("ListServices after detach = %+v", page.Items)
	}
	refs, err = s.ListScopes(ctx, "acme")
	must(t, err)
	if len(refs) != 1 || refs[0].AccessPolicyID != "" {
		t.Fatalf("ListScopes after detach = %+v", refs)
	}
}

// testServiceClaimMappings: a service's claim mappings round-trip through
// create, update, get, list and the scope catalog (ListScopes), which the
// token endpoint reads, with the service's UpdatedAt as their version.
func testServiceClaimMappings(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "acme")
	svc := newService("acme", "api", "api:read", "api:write")
	svc.ClaimMappings = []storage.ClaimMapping{{Name: "tenant", Expression: `workspace.id + "||" + user.username`,
		Targets: []string{"access_token", "introspection"}}}
	must(t, s.CreateService(ctx, svc))
	got, err := s.GetService(ctx, "acme", "api")
	must(t, err)
	if !reflect.DeepEqual(got.ClaimMappings, svc.ClaimMappings) {
		t.Fatalf("GetService claim mappings = %+v", got.ClaimMappings)
	}
	refs, err := s.ListScopes(ctx, "acme")
	must(t, err)
	if len(refs) != 2 || !reflect.DeepEqual(refs[1].ServiceClaimMappings, svc.ClaimMappings) || !refs[1].ServiceUpdatedAt.Equal(got.UpdatedAt) {
		t.Fatalf("ListScopes = %+v", refs)
	}
	later := got.UpdatedAt.Add(time.Second)
	_, err = s.UpdateService(ctx, "acme", "api", func(sv storage.Service) (storage.Service, error) {
		sv.ClaimMappings, sv.UpdatedAt = nil, later
		return sv, nil
	})
	must(t, err)
	page, err := s.ListServices(ctx, "acme", storage.ListOptions{})
	must(t, err)
	if len(page.Items) != 1 || page.Items[0].ClaimMappings != nil {
		t.Fatalf("ListServices after clearing = %+v", page.Items)
	}
	refs, err = s.ListScopes(ctx, "acme")
	must(t, err)
	if len(refs) != 2 || refs[0].ServiceClaimMappings != nil || !refs[0].ServiceUpdatedAt.Equal(later) {
		t.Fatalf("ListScopes after clearing = %+v", refs)
	}
}
