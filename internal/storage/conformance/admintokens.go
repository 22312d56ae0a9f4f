package conformance

import (
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
)

// adminToken returns a token of role over workspaces whose hash is
// "hash-"+id.
func adminToken(id, role string, workspaces ...string) storage.AdminToken {
	return storage.AdminToken{ID: id, Name: "token " + id, Hash: []byte("hash-" + id), CreatedAt: baseTime,
		Role: role, Workspaces: workspaces, CreatedBy: "root"}
}

// wantAdminToken fails unless the token id exists with exactly workspaces
// (keep) or does not exist at all (!keep).
func wantAdminToken(t *testing.T, s storage.Storage, id string, keep bool, workspaces ...string) {
	t.Helper()
	got, err := s.GetAdminTokenByHash(t.Context(), []byte("hash-"+id))
	if !keep {
		wantErr(t, err, storage.ErrNotFound, "admin token "+id)
		return
	}
	must(t, err)
	if !slices.Equal(got.Workspaces, workspaces) {
		t.Fatalf("admin token %s workspaces = %q, want %q", id, got.Workspaces, workspaces)
	}
}

// testAdminTokensOfDeletedWorkspace: deleting a workspace ends every
// admin token's power over it, and a workspace re-created with the same
// ID is reached by none of them (docs/security.md O2, O5). A token of
// that workspace alone is deleted; a token of several keeps the others.
func testAdminTokensOfDeletedWorkspace(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	for _, ws := range []string{"gone", "kept", "other"} {
		createWorkspace(t, s, ws)
	}
	tokens := []storage.AdminToken{
		adminToken("root", storage.RoleSuperAdmin),
		adminToken("only", storage.RoleWorkspaceAdmin, "gone"),
		adminToken("multi", storage.RoleWorkspaceViewer, "kept", "gone", "other"),
		adminToken("elsewhere", storage.RoleWorkspaceAdmin, "kept"),
	}
	for _, tok := range tokens {
		must(t, s.CreateAdminToken(ctx, tok))
	}
	wantErr(t, s.DeleteWorkspace(ctx, "nope"), storage.ErrNotFound, "delete of an unknown workspace")
	wantAdminToken(t, s, "multi", true, "kept", "gone", "other")

	must(t, s.DeleteWorkspace(ctx, "gone"))
	check := func(when string) {
		t.Helper()
		wantAdminToken(t, s, "root", true)
		wantAdminToken(t, s, "only", false)
		wantAdminToken(t, s, "multi", true, "kept", "other")
		wantAdminToken(t, s, "elsewhere", true, "kept")
		list, err := s.ListAdminTokens(ctx)
		must(t, err)
		var ids []string
		for _, tok := range list {
			ids = append(ids, tok.ID)
		}
		if !slices.Equal(ids, []string{"elsewhere", "multi", "root"}) {
			t.Fatalf("%s: ListAdminTokens = %q", when, ids)
		}
	}
	check("after delete")
	// Only the workspace list changed: the rest of the narrowed token is
	// as it was stored.
	got, err := s.GetAdminTokenByHash(ctx, []byte("hash-multi"))
	must(t, err)
	sameTime(t, "narrowed token created", got.CreatedAt, baseTime)
	if got.Role != storage.RoleWorkspaceViewer || got.Name != "token multi" || got.CreatedBy != "root" {
		t.Fatalf("narrowed token = %+v", got)
	}
	wantErr(t, s.CreateAdminToken(ctx, adminToken("late", storage.RoleWorkspaceAdmin, "gone")),
		storage.ErrNotFound, "admin token of a deleted workspace")

	createWorkspace(t, s, "gone") // the same ID again
	check("after re-creation")
}

// concurrentWorkspaceDeletionsNarrowToken: deletions of several of a
// token's workspaces at once each take their workspace out; none writes
// back a list that still holds another's (a lost update would give the
// token a deleted workspace, hence a re-created one).
func concurrentWorkspaceDeletionsNarrowToken(t *testing.T, s storage.Storage) {
	const n = 8
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "ws" + strconv.Itoa(i)
		createWorkspace(t, s, ids[i])
	}
	createWorkspace(t, s, "kept")
	must(t, s.CreateAdminToken(t.Context(), adminToken("multi", storage.RoleWorkspaceAdmin, append(ids, "kept")...)))
	errs := make([]error, n)
	parallel(n, func(i int) { errs[i] = s.DeleteWorkspace(t.Context(), ids[i]) })
	must(t, errors.Join(errs...))
	wantAdminToken(t, s, "multi", true, "kept")
}

// concurrentAdminTokenCreateAndWorkspaceDelete: a token created while its
// workspace is deleted is either refused (ErrNotFound) or stored first
// and then narrowed; no stored token names the deleted workspace.
func concurrentAdminTokenCreateAndWorkspaceDelete(t *testing.T, s storage.Storage) {
	const n = 8
	createWorkspace(t, s, "kept")
	for i := range n {
		createWorkspace(t, s, "ws"+strconv.Itoa(i))
	}
	errs := make([]error, 2*n)
	parallel(2*n, func(i int) {
		ws := "ws" + strconv.Itoa(i/2)
		if i%2 == 0 {
			errs[i] = s.DeleteWorkspace(t.Context(), ws)
			return
		}
		errs[i] = s.CreateAdminToken(t.Context(), adminToken("t"+strconv.Itoa(i/2), storage.RoleWorkspaceAdmin, ws, "kept"))
	})
	for i, err := range errs {
		if err != nil && (i%2 == 0 || !errors.Is(err, storage.ErrNotFound)) {
			t.Errorf("call %d: %v", i, err)
		}
	}
	for i := range n {
		createWorkspace(t, s, "ws"+strconv.Itoa(i)) // re-created: reached by no token
		id := "t" + strconv.Itoa(i)
		wantAdminToken(t, s, id, errs[2*i+1] == nil, "kept")
	}
}

// testConsoleUsersOfDeletedWorkspace: deleting a workspace takes it out of
// the console users' workspace lists in the same transaction, so a
// workspace re-created with the same ID is reached by none of them
// (docs/security.md O2, O5); the accounts and their other workspaces
// stay.
func testConsoleUsersOfDeletedWorkspace(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	for _, ws := range []string{"gone", "kept"} {
		createWorkspace(t, s, ws)
	}
	both, only := newAdminUser("cu-both", "both"), newAdminUser("cu-only", "only")
	both.Workspaces, only.Workspaces = []string{"kept", "gone"}, []string{"gone"}
	must(t, s.CreateAdminUser(ctx, both))
	must(t, s.CreateAdminUser(ctx, only))
	must(t, s.DeleteWorkspace(ctx, "gone"))
	createWorkspace(t, s, "gone") // re-created with the same ID
	for id, want := range map[string][]string{"cu-both": {"kept"}, "cu-only": nil} {
		u, err := s.GetAdminUser(ctx, id)
		must(t, err)
		if !slices.Equal(u.Workspaces, want) {
			t.Fatalf("console user %s workspaces = %q, want %q", id, u.Workspaces, want)
		}
	}
}
