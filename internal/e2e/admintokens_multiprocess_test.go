package e2e

import (
	"net/http"
	"testing"
)

// TestMultiProcessAdminTokenRevocation: an admin token deleted through one
// process is refused by the other at once, with no polling, because every
// process looks tokens up in the shared database on each request
// (docs/security.md O5).
func TestMultiProcessAdminTokenRevocation(t *testing.T) {
	t.Parallel()
	p1, p2, _ := startProcessPair(t, "multi-process admin token revocation")
	const path = "/workspaces/default/services"
	for _, dir := range []struct {
		name          string
		create, check *instance
	}{
		{"created and deleted on 1 refused on 2", p1, p2},
		{"created and deleted on 2 refused on 1", p2, p1},
	} {
		t.Run(dir.name, func(t *testing.T) {
			var created struct {
				ID    string `json:"id"`
				Token string `json:"token"`
			}
			dir.create.adminOK(t, http.MethodPost, "/admin-tokens", map[string]any{
				"name": "mp", "role": "workspace_viewer", "workspaces": []string{"default"},
			}, http.StatusCreated, &created)
			dir.create.leaks.Add(created.Token)
			scoped := *dir.check
			scoped.admin = created.Token
			if r := scoped.adminDo(t, http.MethodGet, path, nil); r.status != http.StatusOK {
				t.Fatalf("scoped token on the other process: %d %s", r.status, r.raw)
			}
			if r := scoped.adminDo(t, http.MethodPost, path, map[string]any{"id": "x", "name": "X", "identifier": "https://x.example"}); r.status != http.StatusForbidden {
				t.Fatalf("viewer write on the other process: %d %s", r.status, r.raw)
			}
			dir.create.adminOK(t, http.MethodDelete, "/admin-tokens/"+created.ID, nil, http.StatusNoContent, nil)
			if r := scoped.adminDo(t, http.MethodGet, path, nil); r.status != http.StatusUnauthorized {
				t.Fatalf("revoked token on the other process: %d %s", r.status, r.raw)
			}
		})
	}
}
