package conformance

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// RunTests runs the functional suite against stores made by newStorage.
func RunTests(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Storage)
	}{
		{"Ping", testPing},
		{"WorkspaceCRUD", testWorkspaceCRUD},
		{"ServiceCRUD", testServiceCRUD},
		{"ServiceUniqueness", testServiceUniqueness},
		{"ClientCRUD", testClientCRUD},
		{"ClientUniqueness", testClientUniqueness},
		{"UpdaterSemantics", testUpdaterSemantics},
		{"Pagination", testPagination},
		{"PaginationQuery", testPaginationQuery},
		{"SearchPrefixAcrossWindow", testSearchClientsAcrossWindow},
		{"SigningKeys", testSigningKeys},
		{"UseJTI", testUseJTI},
		{"Revocation", testRevocation},
		{"OpaqueTokens", testOpaqueTokens},
		{"OpaqueTokensConcurrent", testOpaqueTokensConcurrent},
		{"OpaqueTokensExpire", testOpaqueTokensExpire},
		{"PushedRequests", testPushedRequests},
		{"PushedRequestsConcurrent", testPushedRequestsConcurrent},
		{"EncryptionKeys", testEncryptionKeys},
		{"EncryptionKeyRotation", testEncryptionKeyRotation}, // RFC 9101 §6.1 (encryptionkeys.go)
		{"EncryptionKeyRotationConcurrent", testEncryptionKeyRotationConcurrent},
		{"InitialAccessTokens", testInitialAccessTokens},
		{"InitialAccessTokenPolicy", testInitialAccessTokenPolicy},
		{"CreateClientWithInitialAccessToken", testCreateClientWithInitialAccessToken},
		{"AdminTokens", testAdminTokens},
		{"AdminTokensOfDeletedWorkspace", testAdminTokensOfDeletedWorkspace},   // docs/security.md O2, O5
		{"ConsoleUsersOfDeletedWorkspace", testConsoleUsersOfDeletedWorkspace}, // docs/security.md O2, O5
		{"Changes", testChanges},
		{"DeleteExpired", testDeleteExpired},
		{"TimeRoundTripUTC", testTimeRoundTrip},
		{"Policies", testPolicies},
		{"PolicyChanges", testPolicyChanges},
		{"ServiceAccessPolicy", testServiceAccessPolicy},
		{"ServiceClaimMappings", testServiceClaimMappings},
		{"ServiceDetailTypes", testServiceDetailTypes}, // RFC 9396 (authzdetails.go)
	}
	for _, tc := range tests {
		subtest(t, tc.name, newStorage, tc.fn)
	}
}

func testPing(t *testing.T, s storage.Storage) {
	must(t, s.Ping(t.Context()))
}

func testWorkspaceCRUD(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	w := createWorkspace(t, s, "acme")
	got, err := s.GetWorkspace(ctx, "acme")
	must(t, err)
	sameTime(t, "created", got.CreatedAt, w.CreatedAt)
	sameTime(t, "updated", got.UpdatedAt, w.UpdatedAt)
	got.CreatedAt, got.UpdatedAt = w.CreatedAt, w.UpdatedAt
	if !reflect.DeepEqual(got, w) {
		t.Fatalf("GetWorkspace = %+v, want %+v", got, w)
	}
	wantErr(t, s.CreateWorkspace(ctx, newWorkspace("acme")), storage.ErrAlreadyExists, "duplicate workspace")

	updated, err := s.UpdateWorkspace(ctx, "acme", func(w storage.Workspace) (storage.Workspace, error) {
		w.Name, w.Enabled = "Acme Corp", false
		w.Settings.SigningAlg = "ES256"
		w.ID = "other" // ignored: the ID cannot change
		return w, nil
	})
	must(t, err)
	if updated.ID != "acme" || updated.Name != "Acme Corp" || updated.Enabled {
		t.Fatalf("UpdateWorkspace returned %+v", updated)
	}
	got, err = s.GetWorkspace(ctx, "acme")
	must(t, err)
	if got.Name != "Acme Corp" || got.Enabled || got.Settings.SigningAlg != "ES256" {
		t.Fatalf("after update: %+v", got)
	}
	_, err = s.GetWorkspace(ctx, "other")
	wantErr(t, err, storage.ErrNotFound, "updater must not rename")

	_, err = s.GetWorkspace(ctx, "missing")
	wantErr(t, err, storage.ErrNotFound, "get missing workspace")
	_, err = s.UpdateWorkspace(ctx, "missing", func(w storage.Workspace) (storage.Workspace, error) { return w, nil })
	wantErr(t, err, storage.ErrNotFound, "update missing workspace")

	must(t, s.DeleteWorkspace(ctx, "acme"))
	_, err = s.GetWorkspace(ctx, "acme")
	wantErr(t, err, storage.ErrNotFound, "get deleted workspace")
	wantErr(t, s.DeleteWorkspace(ctx, "acme"), storage.ErrNotFound, "delete twice")
}

func testServiceCRUD(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	svc := newService("ws", "billing", "billing.write", "billing.read")
	must(t, s.CreateService(ctx, svc))
	got, err := s.GetService(ctx, "ws", "billing")
	must(t, err)
	sameTime(t, "created", got.CreatedAt, svc.CreatedAt)
	got.CreatedAt, got.UpdatedAt = svc.CreatedAt, svc.UpdatedAt
	if !reflect.DeepEqual(got, svc) {
		t.Fatalf("GetService = %+v, want %+v (scope order must be kept)", got, svc)
	}
	must(t, s.CreateService(ctx, newService("ws", "audit", "audit.read")))
	refs, err := s.ListScopes(ctx, "ws")
	must(t, err)
	wantRefs := []storage.ScopeRef{
		{Scope: storage.Scope{Name: "audit.read", Description: "can audit.read"}, ServiceID: "audit", ServiceIdentifier: "https://api.example.com/audit"},
		{Scope: storage.Scope{Name: "billing.read", Description: "can billing.read"}, ServiceID: "billing", ServiceIdentifier: "https://api.example.com/billing"},
		{Scope: storage.Scope{Name: "billing.write", Description: "can billing.write"}, ServiceID: "billing", ServiceIdentifier: "https://api.example.com/billing"},
	}
	for i := range refs {
		refs[i].ServiceUpdatedAt = time.Time{} // testServiceClaimMappings checks it
	}
	if !reflect.DeepEqual(refs, wantRefs) {
		t.Fatalf("ListScopes = %+v, want %+v", refs, wantRefs)
	}

	up, err := s.UpdateService(ctx, "ws", "billing", func(svc storage.Service) (storage.Service, error) {
		svc.Identifier = "https://billing.example.com"
		svc.Scopes = []storage.Scope{{Name: "billing.admin", Description: "all"}}
		return svc, nil
	})
	must(t, err)
	if up.Identifier != "https://billing.example.com" || len(up.Scopes) != 1 {
		t.Fatalf("UpdateService returned %+v", up)
	}
	got, err = s.GetService(ctx, "ws", "billing")
	must(t, err)
	if !reflect.DeepEqual(got.Scopes, up.Scopes) || got.Identifier != up.Identifier {
		t.Fatalf("after update: %+v", got)
	}
	// The old scope names are free again.
	must(t, s.CreateService(ctx, newService("ws", "billing2", "billing.read")))

	must(t, s.DeleteService(ctx, "ws", "billing"))
	_, err = s.GetService(ctx, "ws", "billing")
	wantErr(t, err, storage.ErrNotFound, "get deleted service")
	refs, err = s.ListScopes(ctx, "ws")
	must(t, err)
	for _, r := range refs {
		if r.ServiceID == "billing" {
			t.Fatalf("scope %q of deleted service still listed", r.Name)
		}
	}
	wantErr(t, s.DeleteService(ctx, "ws", "billing"), storage.ErrNotFound, "delete twice")
	_, err = s.UpdateService(ctx, "ws", "billing", func(s storage.Service) (storage.Service, error) { return s, nil })
	wantErr(t, err, storage.ErrNotFound, "update missing service")
	wantErr(t, s.CreateService(ctx, newService("nope", "x")), storage.ErrNotFound, "service in missing workspace")
}

func testServiceUniqueness(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	must(t, s.CreateService(ctx, newService("ws", "a", "read", "write")))

	dupID := newService("ws", "a")
	dupID.Identifier = "https://other"
	wantErr(t, s.CreateService(ctx, dupID), storage.ErrAlreadyExists, "duplicate service id")

	dupIdent := newService("ws", "b")
	dupIdent.Identifier = "https://api.example.com/a"
	wantErr(t, s.CreateService(ctx, dupIdent), storage.ErrAlreadyExists, "duplicate service identifier")

	// Scope names are unique across the workspace's services; the failed
	// create must leave nothing behind.
	wantErr(t, s.CreateService(ctx, newService("ws", "c", "admin", "read")), storage.ErrAlreadyExists, "scope name taken by another service")
	_, err := s.GetService(ctx, "ws", "c")
	wantErr(t, err, storage.ErrNotFound, "failed create is rolled back")
	wantErr(t, s.CreateService(ctx, newService("ws", "d", "x", "x")), storage.ErrAlreadyExists, "scope repeated in one service")

	must(t, s.CreateService(ctx, newService("ws", "e", "admin")))
	_, err = s.UpdateService(ctx, "ws", "e", func(svc storage.Service) (storage.Service, error) {
		svc.Scopes = append(svc.Scopes, storage.Scope{Name: "write"})
		return svc, nil
	})
	wantErr(t, err, storage.ErrAlreadyExists, "update to a scope name of another service")
	_, err = s.UpdateService(ctx, "ws", "e", func(svc storage.Service) (storage.Service, error) {
		svc.Identifier = "https://api.example.com/a"
		return svc, nil
	})
	wantErr(t, err, storage.ErrAlreadyExists, "update to another service's identifier")
	got, err := s.GetService(ctx, "ws", "e")
	must(t, err)
	if len(got.Scopes) != 1 || got.Identifier != "https://api.example.com/e" {
		t.Fatalf("failed updates changed the service: %+v", got)
	}
}

func testClientCRUD(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	c := newClient("ws", "app")
	c.JWKS = []byte(`{"keys":[]}`)
	c.JWKSURI = "https://app.example.com/jwks"
	c.RedirectURIs = []string{"https://app.example.com/cb"}
	c.ResponseTypes = []string{"code"}
	c.TokenEndpointAuthSigningAlg = "ES256"
	c.SecretExpiresAt = at(time.Hour).UTC()
	c.RegistrationAccessTokenHash = []byte{9, 8, 7}
	c.Dynamic = true
	c.Extra = map[string]any{"software_id": "x", "n": float64(3)}
	must(t, s.CreateClient(ctx, c))
	got, err := s.GetClient(ctx, "ws", "app")
	must(t, err)
	sameTime(t, "created", got.CreatedAt, c.CreatedAt)
	sameTime(t, "updated", got.UpdatedAt, c.UpdatedAt)
	sameTime(t, "secret rotated", got.SecretRotatedAt, c.SecretRotatedAt)
	got.CreatedAt, got.UpdatedAt, got.SecretRotatedAt = c.CreatedAt, c.UpdatedAt, c.SecretRotatedAt
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("GetClient =\n%+v\nwant\n%+v", got, c)
	}

	up, err := s.UpdateClient(ctx, "ws", "app", func(c storage.Client) (storage.Client, error) {
		c.Name, c.Enabled = "Renamed", false
		c.Scopes = []string{"read"}
		c.Metadata["env"] = "prod"
		c.WorkspaceID, c.ID = "elsewhere", "other" // ignored
		return c, nil
	})
	must(t, err)
	if up.ID != "app" || up.WorkspaceID != "ws" || up.Name != "Renamed" {
		t.Fatalf("UpdateClient returned %+v", up)
	}
	got, err = s.GetClient(ctx, "ws", "app")
	must(t, err)
	if got.Name != "Renamed" || got.Enabled || !slices.Equal(got.Scopes, []string{"read"}) || got.Metadata["env"] != "prod" {
		t.Fatalf("after update: %+v", got)
	}

	must(t, s.DeleteClient(ctx, "ws", "app"))
	_, err = s.GetClient(ctx, "ws", "app")
	wantErr(t, err, storage.ErrNotFound, "get deleted client")
	wantErr(t, s.DeleteClient(ctx, "ws", "app"), storage.ErrNotFound, "delete twice")
	_, err = s.UpdateClient(ctx, "ws", "app", func(c storage.Client) (storage.Client, error) { return c, nil })
	wantErr(t, err, storage.ErrNotFound, "update missing client")
	wantErr(t, s.CreateClient(ctx, newClient("nope", "x")), storage.ErrNotFound, "client in missing workspace")
}

func testClientUniqueness(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	must(t, s.CreateClient(ctx, newClient("ws", "app")))
	wantErr(t, s.CreateClient(ctx, newClient("ws", "app")), storage.ErrAlreadyExists, "duplicate client id")
	// IDs are case-sensitive: a different case is another client.
	must(t, s.CreateClient(ctx, newClient("ws", "App")))
}

func testUpdaterSemantics(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	must(t, s.CreateClient(ctx, newClient("ws", "app")))
	must(t, s.CreateService(ctx, newService("ws", "svc", "read")))
	_, err := s.UpdateClient(ctx, "ws", "app", func(c storage.Client) (storage.Client, error) {
		c.Name = "should not stick"
		return c, errBoom
	})
	if err != errBoom { //nolint:errorlint // the contract: the updater's error is returned unchanged
		t.Fatalf("UpdateClient updater error = %v, want errBoom unchanged", err)
	}
	_, err = s.UpdateWorkspace(ctx, "ws", func(w storage.Workspace) (storage.Workspace, error) { return w, errBoom })
	if err != errBoom { //nolint:errorlint
		t.Fatalf("UpdateWorkspace updater error = %v", err)
	}
	_, err = s.UpdateService(ctx, "ws", "svc", func(v storage.Service) (storage.Service, error) { return v, errBoom })
	if err != errBoom { //nolint:errorlint
		t.Fatalf("UpdateService updater error = %v", err)
	}
	_, err = s.UpdateSigningKeys(ctx, "ws", func(k []storage.SigningKey) ([]storage.SigningKey, error) {
		return append(k, newKey("ws", "k", storage.KeyActive, 0)), errBoom
	})
	if err != errBoom { //nolint:errorlint
		t.Fatalf("UpdateSigningKeys updater error = %v", err)
	}
	got, err := s.GetClient(ctx, "ws", "app")
	must(t, err)
	if got.Name != "Client app" {
		t.Fatalf("aborted update was written: %q", got.Name)
	}
	keys, err := s.ListSigningKeys(ctx, "ws")
	must(t, err)
	if len(keys) != 0 {
		t.Fatalf("aborted key update was written: %v", kids(keys))
	}
}

func testPagination(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	var want []string
	for _, id := range []string{"c07", "c01", "c05", "c03", "c02", "c06", "c04"} {
		must(t, s.CreateClient(ctx, newClient("ws", id)))
		want = append(want, id)
	}
	slices.Sort(want)
	var got []string
	after := ""
	pages := 0
	for {
		page, err := s.ListClients(ctx, "ws", storage.ListOptions{After: after, Limit: 3})
		must(t, err)
		pages++
		if len(page.Items) > 3 {
			t.Fatalf("page has %d items, limit 3", len(page.Items))
		}
		for _, c := range page.Items {
			got = append(got, c.ID)
		}
		if page.Next == "" {
			break
		}
		if page.Next != page.Items[len(page.Items)-1].ID {
			t.Fatalf("Next = %q, want last ID of page", page.Next)
		}
		after = page.Next
	}
	if !slices.Equal(got, want) || pages != 3 {
		t.Fatalf("paged IDs = %v in %d pages, want %v in 3", got, pages, want)
	}
	// Exactly one full page: no Next.
	page, err := s.ListClients(ctx, "ws", storage.ListOptions{Limit: 7})
	must(t, err)
	if len(page.Items) != 7 || page.Next != "" {
		t.Fatalf("full page: %d items, Next %q", len(page.Items), page.Next)
	}
	for _, limit := range []int{0, -5} {
		page, err = s.ListClients(ctx, "ws", storage.ListOptions{Limit: limit})
		must(t, err)
		if len(page.Items) != 7 || page.Next != "" {
			t.Fatalf("limit %d: %d items, want all 7 (default page size)", limit, len(page.Items))
		}
	}
	page, err = s.ListClients(ctx, "ws", storage.ListOptions{Limit: storage.MaxPageSize + 1000})
	must(t, err)
	if len(page.Items) != 7 {
		t.Fatalf("huge limit: %d items", len(page.Items))
	}
	page, err = s.ListClients(ctx, "ws", storage.ListOptions{After: "c07"})
	must(t, err)
	if len(page.Items) != 0 || page.Next != "" {
		t.Fatalf("after last: %+v", page)
	}

	for _, id := range []string{"b", "a", "c"} {
		createWorkspace(t, s, id)
		must(t, s.CreateService(ctx, newService("ws", "svc-"+id, "scope-"+id)))
	}
	wp, err := s.ListWorkspaces(ctx, storage.ListOptions{Limit: 2})
	must(t, err)
	if len(wp.Items) != 2 || wp.Items[0].ID != "a" || wp.Items[1].ID != "b" || wp.Next != "b" {
		t.Fatalf("workspaces page 1: %+v", wp)
	}
	wp, err = s.ListWorkspaces(ctx, storage.ListOptions{After: wp.Next, Limit: 2})
	must(t, err)
	if len(wp.Items) != 2 || wp.Items[0].ID != "c" || wp.Items[1].ID != "ws" || wp.Next != "" {
		t.Fatalf("workspaces page 2: %+v", wp)
	}
	sp, err := s.ListServices(ctx, "ws", storage.ListOptions{Limit: 2})
	must(t, err)
	if len(sp.Items) != 2 || sp.Items[0].ID != "svc-a" || sp.Next != "svc-b" {
		t.Fatalf("services page 1: %+v", sp)
	}
	if len(sp.Items[1].Scopes) != 1 || sp.Items[1].Scopes[0].Name != "scope-b" {
		t.Fatalf("listed service lacks its scopes: %+v", sp.Items[1])
	}
}

func testPaginationQuery(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	names := map[string]string{
		"alpha":    "Payments API",
		"beta":     "Billing",
		"gamma":    "payments worker",
		"delta":    "100% real",
		"epsilon":  "snake_case",
		"PayRoll1": "HR",
		"zeta":     "100x real",
		"eta":      "snakeXcase",
	}
	for id, name := range names {
		c := newClient("ws", id)
		c.Name = name
		must(t, s.CreateClient(ctx, c))
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"payments", []string{"alpha", "gamma"}},
		{"PAYMENTS", []string{"alpha", "gamma"}},
		{"pay", []string{"PayRoll1", "alpha", "gamma"}},
		{"ALPH", []string{"alpha"}},
		{"100%", []string{"delta"}},     // literal, not a wildcard
		{"snake_", []string{"epsilon"}}, // "_" must not match "X"
		{"%", nil},                      // a prefix: no name starts with "%"
		{"real", nil},                   // a prefix, not a substring (search.go)
		{`\`, nil},                      // the escape character itself
		{"' OR '1'='1", nil},            // SECURITY.md A4-style injection stays data
		{"nothing-matches", nil},
	}
	for _, tc := range tests {
		page, err := s.ListClients(ctx, "ws", storage.ListOptions{Query: tc.query})
		must(t, err)
		var got []string
		for _, c := range page.Items {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("query %q = %v, want %v", tc.query, got, tc.want)
		}
	}
	page, err := s.ListClients(ctx, "ws", storage.ListOptions{Query: "pay", Limit: 2})
	must(t, err)
	if len(page.Items) != 2 || page.Next != "alpha" {
		t.Fatalf("query page 1: %d items, Next %q", len(page.Items), page.Next)
	}
	page, err = s.ListClients(ctx, "ws", storage.ListOptions{Query: "pay", Limit: 2, After: page.Next})
	must(t, err)
	if len(page.Items) != 1 || page.Items[0].ID != "gamma" || page.Next != "" {
		t.Fatalf("query page 2: %+v", page)
	}
	wp, err := s.ListWorkspaces(ctx, storage.ListOptions{Query: "WORKSPACE"})
	must(t, err)
	if len(wp.Items) != 1 {
		t.Fatalf("workspace query by name: %d items", len(wp.Items))
	}
}

func testSigningKeys(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	keys, err := s.ListSigningKeys(ctx, "ws")
	must(t, err)
	if len(keys) != 0 {
		t.Fatalf("new workspace has keys: %v", kids(keys))
	}
	active := newKey("ws", "k1", storage.KeyActive, 0)
	active.ActivatedAt = at(time.Minute)
	next := newKey("ws", "k2", storage.KeyNext, time.Hour)
	out, err := s.UpdateSigningKeys(ctx, "ws", func(cur []storage.SigningKey) ([]storage.SigningKey, error) {
		if len(cur) != 0 {
			t.Errorf("updater saw %v, want none", kids(cur))
		}
		return []storage.SigningKey{next, active}, nil
	})
	must(t, err)
	if !slices.Equal(kids(out), []string{"k1", "k2"}) {
		t.Fatalf("UpdateSigningKeys returned %v, want [k1 k2] (by creation time)", kids(out))
	}
	keys, err = s.ListSigningKeys(ctx, "ws")
	must(t, err)
	sameTime(t, "activated", keys[0].ActivatedAt, active.ActivatedAt)
	sameTime(t, "retired (unset)", keys[0].RetiredAt, time.Time{})
	keys[0].CreatedAt, keys[0].ActivatedAt = active.CreatedAt, active.ActivatedAt
	if !reflect.DeepEqual(keys[0], active) {
		t.Fatalf("stored key = %+v, want %+v", keys[0], active)
	}

	// Rotate: k2 becomes active, k1 retired, k3 new, then drop k1.
	_, err = s.UpdateSigningKeys(ctx, "ws", func(cur []storage.SigningKey) ([]storage.SigningKey, error) {
		cur[0].State, cur[0].RetiredAt, cur[0].RetireUntil = storage.KeyRetired, at(2*time.Hour), at(3*time.Hour)
		cur[1].State, cur[1].ActivatedAt = storage.KeyActive, at(2*time.Hour)
		return append(cur, newKey("ws", "k3", storage.KeyNext, 2*time.Hour)), nil
	})
	must(t, err)
	keys, err = s.ListSigningKeys(ctx, "ws")
	must(t, err)
	states := []string{keys[0].State, keys[1].State, keys[2].State}
	if !slices.Equal(states, []string{storage.KeyRetired, storage.KeyActive, storage.KeyNext}) {
		t.Fatalf("states after rotation = %v", states)
	}
	sameTime(t, "retire until", keys[0].RetireUntil, at(3*time.Hour))
	out, err = s.UpdateSigningKeys(ctx, "ws", func(cur []storage.SigningKey) ([]storage.SigningKey, error) {
		return cur[1:], nil
	})
	must(t, err)
	if !slices.Equal(kids(out), []string{"k2", "k3"}) {
		t.Fatalf("after removing k1: %v", kids(out))
	}
	_, err = s.UpdateSigningKeys(ctx, "ws", func(cur []storage.SigningKey) ([]storage.SigningKey, error) {
		return append(cur, cur[0]), nil
	})
	if err == nil {
		t.Fatal("a key set with a repeated kid was accepted")
	}
	_, err = s.UpdateSigningKeys(ctx, "missing", func(cur []storage.SigningKey) ([]storage.SigningKey, error) { return cur, nil })
	wantErr(t, err, storage.ErrNotFound, "keys of a missing workspace")
}

func testUseJTI(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	j := storage.JTI{WorkspaceID: "ws", Namespace: "client_assertion", Issuer: "app", JTI: "id-1", ExpiresAt: time.Now().Add(time.Hour)}
	must(t, s.UseJTI(ctx, j))
	wantErr(t, s.UseJTI(ctx, j), storage.ErrAlreadyExists, "B7: same jti twice")
	later := j
	later.ExpiresAt = j.ExpiresAt.Add(time.Hour)
	wantErr(t, s.UseJTI(ctx, later), storage.ErrAlreadyExists, "B7: same jti, other expiry")

	// B8: the namespace and the issuer are part of the key.
	other := j
	other.Namespace = "jwt_bearer"
	must(t, s.UseJTI(ctx, other))
	other = j
	other.Issuer = "app2"
	must(t, s.UseJTI(ctx, other))

	// An expired use no longer blocks the jti.
	old := storage.JTI{WorkspaceID: "ws", Namespace: "client_assertion", Issuer: "app", JTI: "id-2", ExpiresAt: time.Now().Add(-time.Minute)}
	must(t, s.UseJTI(ctx, old))
	renewed := old
	renewed.ExpiresAt = time.Now().Add(time.Hour)
	must(t, s.UseJTI(ctx, renewed))
	wantErr(t, s.UseJTI(ctx, renewed), storage.ErrAlreadyExists, "renewed jti is live again")

	missing := j
	missing.WorkspaceID = "missing"
	if err := s.UseJTI(ctx, missing); err == nil {
		t.Fatal("UseJTI in a missing workspace succeeded")
	}
}

func testRevocation(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	revoked, err := s.IsTokenRevoked(ctx, "ws", "jti-1")
	must(t, err)
	if revoked {
		t.Fatal("unknown token reported revoked")
	}
	r := storage.RevokedToken{WorkspaceID: "ws", JTI: "jti-1", ClientID: "app", ExpiresAt: time.Now().Add(time.Hour), RevokedAt: time.Now()}
	must(t, s.RevokeToken(ctx, r))
	must(t, s.RevokeToken(ctx, r)) // RFC 7009 §2.2: revoking again is fine
	revoked, err = s.IsTokenRevoked(ctx, "ws", "jti-1")
	must(t, err)
	if !revoked {
		t.Fatal("revoked token not reported revoked")
	}
	revoked, err = s.IsTokenRevoked(ctx, "ws", "jti-2")
	must(t, err)
	if revoked {
		t.Fatal("another jti reported revoked")
	}
}

func testInitialAccessTokens(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	now := baseTime
	tok := storage.InitialAccessToken{WorkspaceID: "ws", ID: "iat1", Hash: []byte("hash-1"), Description: "ci",
		ExpiresAt: now.Add(time.Hour), UsesLeft: 2, CreatedAt: now}
	must(t, s.CreateInitialAccessToken(ctx, tok))
	wantErr(t, s.CreateInitialAccessToken(ctx, tok), storage.ErrAlreadyExists, "duplicate id")
	dupHash := tok
	dupHash.ID = "iat-other"
	wantErr(t, s.CreateInitialAccessToken(ctx, dupHash), storage.ErrAlreadyExists, "duplicate hash")

	list, err := s.ListInitialAccessTokens(ctx, "ws")
	must(t, err)
	if len(list) != 1 || list[0].ID != "iat1" || list[0].UsesLeft != 2 || string(list[0].Hash) != "hash-1" {
		t.Fatalf("ListInitialAccessTokens = %+v", list)
	}
	sameTime(t, "iat expiry", list[0].ExpiresAt, tok.ExpiresAt)

	got, err := s.ConsumeInitialAccessToken(ctx, "ws", []byte("hash-1"), now)
	must(t, err)
	if got.ID != "iat1" || got.UsesLeft != 1 {
		t.Fatalf("first consume = %+v, want UsesLeft 1", got)
	}
	_, err = s.ConsumeInitialAccessToken(ctx, "ws", []byte("hash-1"), now.Add(time.Hour))
	wantErr(t, err, storage.ErrNotFound, "consume at expiry")
	got, err = s.ConsumeInitialAccessToken(ctx, "ws", []byte("hash-1"), now)
	must(t, err)
	if got.UsesLeft != 0 {
		t.Fatalf("second consume UsesLeft = %d", got.UsesLeft)
	}
	_, err = s.ConsumeInitialAccessToken(ctx, "ws", []byte("hash-1"), now)
	wantErr(t, err, storage.ErrNotFound, "consume with no uses left")
	_, err = s.ConsumeInitialAccessToken(ctx, "ws", []byte("hash-unknown"), now)
	wantErr(t, err, storage.ErrNotFound, "consume unknown hash")
	_, err = s.ConsumeInitialAccessToken(ctx, "ws", nil, now)
	wantErr(t, err, storage.ErrNotFound, "consume empty hash")

	unlimited := storage.InitialAccessToken{WorkspaceID: "ws", ID: "iat2", Hash: []byte("hash-2"), UsesLeft: -1, CreatedAt: now}
	must(t, s.CreateInitialAccessToken(ctx, unlimited))
	for range 3 {
		got, err = s.ConsumeInitialAccessToken(ctx, "ws", []byte("hash-2"), now.Add(1000*time.Hour))
		must(t, err)
		if got.UsesLeft != -1 || !got.ExpiresAt.IsZero() {
			t.Fatalf("unlimited token after consume = %+v", got)
		}
	}

	must(t, s.DeleteInitialAccessToken(ctx, "ws", "iat2"))
	_, err = s.ConsumeInitialAccessToken(ctx, "ws", []byte("hash-2"), now)
	wantErr(t, err, storage.ErrNotFound, "consume deleted token")
	wantErr(t, s.DeleteInitialAccessToken(ctx, "ws", "iat2"), storage.ErrNotFound, "delete twice")
}

// testInitialAccessTokenPolicy: the registration policy round-trips and
// GetInitialAccessTokenByHash reads a token without spending it.
func testInitialAccessTokenPolicy(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	policy := storage.RegistrationPolicy{
		GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}, AuthMethods: []string{"private_key_jwt"},
		ApplicationTypes: []string{"native"}, RedirectURIPatterns: []string{"https://app.example/cb/"}, AllowImpersonation: true,
	}
	must(t, s.CreateInitialAccessToken(ctx, storage.InitialAccessToken{WorkspaceID: "ws", ID: "iat", Hash: []byte("h"),
		UsesLeft: 1, CreatedAt: baseTime, Policy: policy}))
	for range 2 {
		got, err := s.GetInitialAccessTokenByHash(ctx, "ws", []byte("h"))
		must(t, err)
		if got.ID != "iat" || got.UsesLeft != 1 || !reflect.DeepEqual(got.Policy, policy) {
			t.Fatalf("GetInitialAccessTokenByHash = %+v", got)
		}
	}
	list, err := s.ListInitialAccessTokens(ctx, "ws")
	must(t, err)
	if len(list) != 1 || !reflect.DeepEqual(list[0].Policy, policy) {
		t.Fatalf("ListInitialAccessTokens = %+v", list)
	}
	_, err = s.GetInitialAccessTokenByHash(ctx, "ws", []byte("other"))
	wantErr(t, err, storage.ErrNotFound, "get unknown hash")
	_, err = s.GetInitialAccessTokenByHash(ctx, "other-ws", []byte("h"))
	wantErr(t, err, storage.ErrNotFound, "get through another workspace")
}

// testCreateClientWithInitialAccessToken: the spend and the insert happen
// together or not at all (RFC 7591 §3; docs/security.md R3).
func testCreateClientWithInitialAccessToken(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	now := baseTime
	must(t, s.CreateInitialAccessToken(ctx, storage.InitialAccessToken{WorkspaceID: "ws", ID: "iat", Hash: []byte("h"),
		ExpiresAt: now.Add(time.Hour), UsesLeft: 2, CreatedAt: now}))
	client := func(id string) storage.Client {
		return storage.Client{WorkspaceID: "ws", ID: id, Name: id, Enabled: true, Type: "confidential", Dynamic: true,
			InitialAccessTokenID: "iat", RegistrationPolicy: &storage.RegistrationPolicy{GrantTypes: []string{"client_credentials"}},
			CreatedAt: now, UpdatedAt: now}
	}
	must(t, s.CreateClientWithInitialAccessToken(ctx, client("c1"), []byte("h"), now))
	got, err := s.GetClient(ctx, "ws", "c1")
	must(t, err)
	if got.InitialAccessTokenID != "iat" || got.RegistrationPolicy == nil || got.RegistrationPolicy.GrantTypes[0] != "client_credentials" {
		t.Fatalf("registered client = %+v", got)
	}
	usesLeft := func() int {
		tok, err := s.GetInitialAccessTokenByHash(ctx, "ws", []byte("h"))
		must(t, err)
		return tok.UsesLeft
	}
	if n := usesLeft(); n != 1 {
		t.Fatalf("uses left after one registration = %d, want 1", n)
	}
	// A failed insert (duplicate client ID) rolls the spend back.
	wantErr(t, s.CreateClientWithInitialAccessToken(ctx, client("c1"), []byte("h"), now), storage.ErrAlreadyExists, "duplicate client")
	if n := usesLeft(); n != 1 {
		t.Fatalf("uses left after a failed registration = %d, want 1", n)
	}
	// An unusable token writes no client.
	wantErr(t, s.CreateClientWithInitialAccessToken(ctx, client("late"), []byte("h"), now.Add(time.Hour)), storage.ErrNotFound, "expired token")
	wantErr(t, s.CreateClientWithInitialAccessToken(ctx, client("nohash"), []byte("x"), now), storage.ErrNotFound, "unknown token")
	must(t, s.CreateClientWithInitialAccessToken(ctx, client("c2"), []byte("h"), now))
	wantErr(t, s.CreateClientWithInitialAccessToken(ctx, client("c3"), []byte("h"), now), storage.ErrNotFound, "used-up token")
	for _, id := range []string{"late", "nohash", "c3"} {
		_, err := s.GetClient(ctx, "ws", id)
		wantErr(t, err, storage.ErrNotFound, "client of a refused registration "+id)
	}
}

func testAdminTokens(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	tok := storage.AdminToken{ID: "bootstrap", Name: "bootstrap admin", Hash: []byte("admin-hash"), CreatedAt: baseTime}
	must(t, s.CreateAdminToken(ctx, tok))
	wantErr(t, s.CreateAdminToken(ctx, tok), storage.ErrAlreadyExists, "duplicate admin token")
	got, err := s.GetAdminTokenByHash(ctx, []byte("admin-hash"))
	must(t, err)
	sameTime(t, "admin created", got.CreatedAt, tok.CreatedAt)
	if got.ID != tok.ID || got.Name != tok.Name || string(got.Hash) != "admin-hash" {
		t.Fatalf("GetAdminTokenByHash = %+v", got)
	}
	_, err = s.GetAdminTokenByHash(ctx, []byte("admin-has"))
	wantErr(t, err, storage.ErrNotFound, "prefix of a hash")
	must(t, s.CreateAdminToken(ctx, storage.AdminToken{ID: "ci", Name: "ci", Hash: []byte("other"), CreatedAt: baseTime}))
	list, err := s.ListAdminTokens(ctx)
	must(t, err)
	if len(list) != 2 || list[0].ID != "bootstrap" || list[1].ID != "ci" {
		t.Fatalf("ListAdminTokens = %+v", list)
	}
	if list[0].Role != storage.RoleSuperAdmin {
		t.Fatalf("token without a role = %q, want %q", list[0].Role, storage.RoleSuperAdmin)
	}
	testScopedAdminTokens(t, s)
}

// testScopedAdminTokens covers the role, workspaces, expiry, last use and
// deletion of admin tokens (docs/security.md O5).
func testScopedAdminTokens(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	scoped := storage.AdminToken{ID: "viewer", Name: "viewer", Hash: []byte("viewer-hash"), CreatedAt: baseTime,
		Role: storage.RoleWorkspaceViewer, Workspaces: []string{"a", "b"}, ExpiresAt: baseTime.Add(time.Hour), CreatedBy: "root"}
	createWorkspace(t, s, "a")
	wantErr(t, s.CreateAdminToken(ctx, scoped), storage.ErrNotFound, "admin token of a missing workspace")
	_, err := s.GetAdminTokenByHash(ctx, []byte("viewer-hash"))
	wantErr(t, err, storage.ErrNotFound, "refused admin token")
	createWorkspace(t, s, "b")
	must(t, s.CreateAdminToken(ctx, scoped))
	got, err := s.GetAdminTokenByHash(ctx, []byte("viewer-hash"))
	must(t, err)
	sameTime(t, "admin token expiry", got.ExpiresAt, scoped.ExpiresAt)
	if got.Role != scoped.Role || len(got.Workspaces) != 2 || got.Workspaces[0] != "a" || got.Workspaces[1] != "b" || got.CreatedBy != "root" || !got.LastUsedAt.IsZero() {
		t.Fatalf("scoped admin token = %+v", got)
	}
	used := baseTime.Add(time.Minute)
	must(t, s.TouchAdminToken(ctx, "viewer", used, used.Add(-time.Minute)))
	// Within the interval the recorded use stays: the hot path does not
	// write on every request.
	must(t, s.TouchAdminToken(ctx, "viewer", used.Add(time.Second), used.Add(-time.Minute+time.Second)))
	got, err = s.GetAdminTokenByHash(ctx, []byte("viewer-hash"))
	must(t, err)
	sameTime(t, "admin token last use", got.LastUsedAt, used)
	must(t, s.TouchAdminToken(ctx, "viewer", used.Add(2*time.Minute), used.Add(time.Minute)))
	got, err = s.GetAdminTokenByHash(ctx, []byte("viewer-hash"))
	must(t, err)
	sameTime(t, "admin token later use", got.LastUsedAt, used.Add(2*time.Minute))
	must(t, s.DeleteAdminToken(ctx, "viewer"))
	wantErr(t, s.DeleteAdminToken(ctx, "viewer"), storage.ErrNotFound, "delete of a deleted admin token")
	_, err = s.GetAdminTokenByHash(ctx, []byte("viewer-hash"))
	wantErr(t, err, storage.ErrNotFound, "deleted admin token")
}

func testChanges(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	start, err := s.LastChangeID(ctx)
	must(t, err)
	createWorkspace(t, s, "ws")
	must(t, s.CreateService(ctx, newService("ws", "svc", "read")))
	must(t, s.CreateClient(ctx, newClient("ws", "app")))
	_, err = s.UpdateClient(ctx, "ws", "app", func(c storage.Client) (storage.Client, error) { return c, nil })
	must(t, err)
	_, err = s.UpdateSigningKeys(ctx, "ws", func([]storage.SigningKey) ([]storage.SigningKey, error) {
		return []storage.SigningKey{newKey("ws", "k1", storage.KeyActive, 0)}, nil
	})
	must(t, err)
	must(t, s.DeleteClient(ctx, "ws", "app"))
	must(t, s.DeleteService(ctx, "ws", "svc"))
	must(t, s.DeleteWorkspace(ctx, "ws"))
	// Not changes: failed writes and single-use records.
	wantErr(t, s.CreateClient(ctx, newClient("ws", "x")), storage.ErrNotFound, "client in deleted workspace")

	type ev struct{ ws, kind, key string }
	want := []ev{
		{"ws", storage.ChangeWorkspace, ""},
		{"ws", storage.ChangeService, "svc"},
		{"ws", storage.ChangeClient, "app"},
		{"ws", storage.ChangeClient, "app"},
		{"ws", storage.ChangeKeys, ""},
		{"ws", storage.ChangeClient, "app"},
		{"ws", storage.ChangeService, "svc"},
		{"ws", storage.ChangeWorkspace, ""},
	}
	all, err := s.Changes(ctx, start, 100)
	must(t, err)
	var got []ev
	last := start
	for _, c := range all {
		if c.ID <= last {
			t.Fatalf("change IDs not increasing: %d after %d", c.ID, last)
		}
		last = c.ID
		if c.At.IsZero() || c.At.Location() != time.UTC {
			t.Fatalf("change At = %v, want a UTC time", c.At)
		}
		got = append(got, ev{c.WorkspaceID, c.Kind, c.Key})
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes = %v, want %v", got, want)
	}
	lastID, err := s.LastChangeID(ctx)
	must(t, err)
	if lastID != last {
		t.Fatalf("LastChangeID = %d, want %d", lastID, last)
	}
	page, err := s.Changes(ctx, start, 3)
	must(t, err)
	if len(page) != 3 || page[0].ID != all[0].ID {
		t.Fatalf("Changes limit 3 returned %d", len(page))
	}
	rest, err := s.Changes(ctx, page[2].ID, 100)
	must(t, err)
	if len(rest) != len(all)-3 {
		t.Fatalf("Changes after %d returned %d, want %d", page[2].ID, len(rest), len(all)-3)
	}
	none, err := s.Changes(ctx, last, 100)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("Changes after the last ID returned %d events", len(none))
	}
}

func testDeleteExpired(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	now := time.Now()
	must(t, s.UseJTI(ctx, storage.JTI{WorkspaceID: "ws", Namespace: "n", Issuer: "i", JTI: "old", ExpiresAt: now.Add(-time.Minute)}))
	must(t, s.UseJTI(ctx, storage.JTI{WorkspaceID: "ws", Namespace: "n", Issuer: "i", JTI: "live", ExpiresAt: now.Add(time.Hour)}))
	must(t, s.RevokeToken(ctx, storage.RevokedToken{WorkspaceID: "ws", JTI: "old", ExpiresAt: now.Add(-time.Minute), RevokedAt: now.Add(-time.Hour)}))
	must(t, s.RevokeToken(ctx, storage.RevokedToken{WorkspaceID: "ws", JTI: "live", ExpiresAt: now.Add(time.Hour), RevokedAt: now}))
	must(t, s.CreateInitialAccessToken(ctx, storage.InitialAccessToken{WorkspaceID: "ws", ID: "old", Hash: []byte("h-old"), ExpiresAt: now.Add(-time.Minute), UsesLeft: 1, CreatedAt: now}))
	must(t, s.CreateInitialAccessToken(ctx, storage.InitialAccessToken{WorkspaceID: "ws", ID: "forever", Hash: []byte("h-forever"), UsesLeft: 1, CreatedAt: now}))
	must(t, s.RevokeStatus(ctx, "ws", 5, now.Add(-time.Minute), now.Add(-time.Hour)))
	must(t, s.RevokeStatus(ctx, "ws", 6, now.Add(time.Hour), now))
	// A tie to a family that does not exist counts as revoked once old
	// enough; an expired one must go rather than linger as a set bit.
	must(t, s.RecordStatusFamily(ctx, "ws", 7, "family-gone", now.Add(-time.Minute), now.Add(-time.Hour)))

	n, err := s.DeleteExpired(ctx, now)
	must(t, err)
	if n != 5 {
		t.Fatalf("DeleteExpired removed %d rows, want 5 (jti, revocation, initial access token, status bit, status family tie)", n)
	}
	bits, err := s.RevokedStatuses(ctx, "ws", 0, 100, now.Add(time.Hour))
	must(t, err)
	if len(bits) != 1 || bits[0] != 6 {
		t.Fatalf("revoked statuses after DeleteExpired = %v, want [6]", bits)
	}
	wantErr(t, s.UseJTI(ctx, storage.JTI{WorkspaceID: "ws", Namespace: "n", Issuer: "i", JTI: "live", ExpiresAt: now.Add(time.Hour)}),
		storage.ErrAlreadyExists, "live jti survives")
	revoked, err := s.IsTokenRevoked(ctx, "ws", "live")
	must(t, err)
	if !revoked {
		t.Fatal("live revocation was deleted")
	}
	revoked, err = s.IsTokenRevoked(ctx, "ws", "old")
	must(t, err)
	if revoked {
		t.Fatal("expired revocation survived")
	}
	list, err := s.ListInitialAccessTokens(ctx, "ws")
	must(t, err)
	if len(list) != 1 || list[0].ID != "forever" {
		t.Fatalf("initial access tokens after DeleteExpired = %+v", list)
	}

	// Change events go once they are more than an hour old.
	changes, err := s.Changes(ctx, 0, 100)
	must(t, err)
	if len(changes) == 0 {
		t.Fatal("no change events recorded")
	}
	n, err = s.DeleteExpired(ctx, now.Add(2*time.Hour))
	must(t, err)
	if n < int64(len(changes)) {
		t.Fatalf("DeleteExpired two hours later removed %d rows, want at least %d change events", n, len(changes))
	}
	changes, err = s.Changes(ctx, 0, 100)
	must(t, err)
	if len(changes) != 0 {
		t.Fatalf("%d old change events survived", len(changes))
	}
}

func testTimeRoundTrip(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	// A local-zone time with sub-millisecond digits must come back as the
	// same instant, truncated to the millisecond, in UTC.
	w := newWorkspace("tz")
	w.CreatedAt = time.Date(2026, 7, 1, 23, 30, 0, 123_456_789, time.FixedZone("UTC-7", -7*3600))
	w.UpdatedAt = time.Time{}
	must(t, s.CreateWorkspace(ctx, w))
	got, err := s.GetWorkspace(ctx, "tz")
	must(t, err)
	sameTime(t, "workspace created", got.CreatedAt, w.CreatedAt)
	sameTime(t, "zero time stays zero", got.UpdatedAt, time.Time{})
	if got.CreatedAt.Nanosecond() != 123_000_000 {
		t.Fatalf("nanoseconds = %d, want truncation to milliseconds", got.CreatedAt.Nanosecond())
	}
	c := newClient("tz", "app")
	c.CreatedAt = w.CreatedAt
	must(t, s.CreateClient(ctx, c))
	gc, err := s.GetClient(ctx, "tz", "app")
	must(t, err)
	sameTime(t, "client created", gc.CreatedAt, c.CreatedAt)
}
