package conformance

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// RunTenantIsolationTests writes in workspace A and proves that nothing of
// it can be read, listed, updated, deleted or spent through workspace B
// (SECURITY.md J3, O1), and that deleting A leaves B intact.
func RunTenantIsolationTests(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Storage)
	}{
		{"Clients", isolationClients},
		{"Services", isolationServices},
		{"SigningKeys", isolationKeys},
		{"JTIs", isolationJTIs},
		{"Revocations", isolationRevocations},
		{"InitialAccessTokens", isolationInitialAccessTokens},
		{"DeleteWorkspace", isolationDeleteWorkspace},
		{"Policies", isolationPolicies},
	}
	for _, tc := range tests {
		subtest(t, tc.name, newStorage, func(t *testing.T, s storage.Storage) {
			createWorkspace(t, s, "a")
			createWorkspace(t, s, "b")
			tc.fn(t, s)
		})
	}
}

func isolationClients(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreateClient(ctx, newClient("a", "app")))
	_, err := s.GetClient(ctx, "b", "app")
	wantErr(t, err, storage.ErrNotFound, "O1: get A's client through B")
	page, err := s.ListClients(ctx, "b", storage.ListOptions{})
	must(t, err)
	if len(page.Items) != 0 {
		t.Fatalf("O1: B lists %d clients of A", len(page.Items))
	}
	page, err = s.ListClients(ctx, "b", storage.ListOptions{Query: "app"})
	must(t, err)
	if len(page.Items) != 0 {
		t.Fatalf("O1: B's query finds A's client")
	}
	_, err = s.UpdateClient(ctx, "b", "app", func(c storage.Client) (storage.Client, error) {
		t.Error("updater ran on another workspace's client")
		c.Name = "pwned"
		return c, nil
	})
	wantErr(t, err, storage.ErrNotFound, "O1: update A's client through B")
	wantErr(t, s.DeleteClient(ctx, "b", "app"), storage.ErrNotFound, "O1: delete A's client through B")
	got, err := s.GetClient(ctx, "a", "app")
	must(t, err)
	if got.Name != "Client app" {
		t.Fatalf("A's client changed through B: %q", got.Name)
	}
	// The same client ID is free in B and independent of A.
	must(t, s.CreateClient(ctx, newClient("b", "app")))
	must(t, s.DeleteClient(ctx, "b", "app"))
	_, err = s.GetClient(ctx, "a", "app")
	must(t, err)
}

func isolationServices(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreateService(ctx, newService("a", "api", "read")))
	_, err := s.GetService(ctx, "b", "api")
	wantErr(t, err, storage.ErrNotFound, "get A's service through B")
	page, err := s.ListServices(ctx, "b", storage.ListOptions{})
	must(t, err)
	if len(page.Items) != 0 {
		t.Fatalf("B lists %d services of A", len(page.Items))
	}
	scopes, err := s.ListScopes(ctx, "b")
	must(t, err)
	if len(scopes) != 0 {
		t.Fatalf("B lists A's scopes: %+v", scopes)
	}
	_, err = s.UpdateService(ctx, "b", "api", func(v storage.Service) (storage.Service, error) {
		t.Error("updater ran on another workspace's service")
		return v, nil
	})
	wantErr(t, err, storage.ErrNotFound, "update A's service through B")
	wantErr(t, s.DeleteService(ctx, "b", "api"), storage.ErrNotFound, "delete A's service through B")
	// Uniqueness of IDs, identifiers and scope names is per workspace.
	must(t, s.CreateService(ctx, newService("b", "api", "read")))
	must(t, s.DeleteService(ctx, "b", "api"))
	got, err := s.GetService(ctx, "a", "api")
	must(t, err)
	if len(got.Scopes) != 1 {
		t.Fatalf("A's service lost its scopes through B: %+v", got)
	}
}

func isolationKeys(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	_, err := s.UpdateSigningKeys(ctx, "a", func([]storage.SigningKey) ([]storage.SigningKey, error) {
		return []storage.SigningKey{newKey("a", "ka", storage.KeyActive, 0)}, nil
	})
	must(t, err)
	keys, err := s.ListSigningKeys(ctx, "b")
	must(t, err)
	if len(keys) != 0 {
		t.Fatalf("P: B lists A's keys %v", kids(keys))
	}
	// B's updater sees only B's (empty) set, and emptying B's set leaves A's.
	_, err = s.UpdateSigningKeys(ctx, "b", func(cur []storage.SigningKey) ([]storage.SigningKey, error) {
		if len(cur) != 0 {
			t.Errorf("B's updater saw %v", kids(cur))
		}
		// A key carrying A's workspace ID is written into B, never into A.
		return []storage.SigningKey{newKey("a", "ka", storage.KeyActive, 0)}, nil
	})
	must(t, err)
	_, err = s.UpdateSigningKeys(ctx, "b", func([]storage.SigningKey) ([]storage.SigningKey, error) { return nil, nil })
	must(t, err)
	keys, err = s.ListSigningKeys(ctx, "a")
	must(t, err)
	if len(keys) != 1 || keys[0].KID != "ka" || keys[0].WorkspaceID != "a" {
		t.Fatalf("A's keys after B's updates: %+v", keys)
	}
}

func isolationJTIs(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	j := storage.JTI{WorkspaceID: "a", Namespace: "client_assertion", Issuer: "app", JTI: "j1", ExpiresAt: time.Now().Add(time.Hour)}
	must(t, s.UseJTI(ctx, j))
	// A jti used in A does not burn the same jti in B, and vice versa.
	j.WorkspaceID = "b"
	must(t, s.UseJTI(ctx, j))
	j.WorkspaceID = "a"
	wantErr(t, s.UseJTI(ctx, j), storage.ErrAlreadyExists, "A's jti still used")
}

func isolationRevocations(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.RevokeToken(ctx, storage.RevokedToken{WorkspaceID: "a", JTI: "t1", ClientID: "app", ExpiresAt: time.Now().Add(time.Hour), RevokedAt: time.Now()}))
	revoked, err := s.IsTokenRevoked(ctx, "b", "t1")
	must(t, err)
	if revoked {
		t.Fatal("A's revocation visible in B")
	}
}

func isolationInitialAccessTokens(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	now := time.Now()
	must(t, s.CreateInitialAccessToken(ctx, storage.InitialAccessToken{WorkspaceID: "a", ID: "iat", Hash: []byte("h"), UsesLeft: 5, CreatedAt: now}))
	_, err := s.ConsumeInitialAccessToken(ctx, "b", []byte("h"), now)
	wantErr(t, err, storage.ErrNotFound, "spend A's initial access token in B")
	list, err := s.ListInitialAccessTokens(ctx, "b")
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("B lists A's initial access tokens: %+v", list)
	}
	wantErr(t, s.DeleteInitialAccessToken(ctx, "b", "iat"), storage.ErrNotFound, "delete A's token through B")
	// Same ID and hash are independent in B.
	must(t, s.CreateInitialAccessToken(ctx, storage.InitialAccessToken{WorkspaceID: "b", ID: "iat", Hash: []byte("h"), UsesLeft: 1, CreatedAt: now}))
	got, err := s.ConsumeInitialAccessToken(ctx, "a", []byte("h"), now)
	must(t, err)
	if got.WorkspaceID != "a" || got.UsesLeft != 4 {
		t.Fatalf("consume in A = %+v", got)
	}
}

func isolationDeleteWorkspace(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	now := time.Now()
	for _, ws := range []string{"a", "b"} {
		must(t, s.CreateService(ctx, newService(ws, "api", "read")))
		must(t, s.CreateClient(ctx, newClient(ws, "app")))
		_, err := s.UpdateSigningKeys(ctx, ws, func([]storage.SigningKey) ([]storage.SigningKey, error) {
			return []storage.SigningKey{newKey(ws, "k", storage.KeyActive, 0)}, nil
		})
		must(t, err)
		must(t, s.UseJTI(ctx, storage.JTI{WorkspaceID: ws, Namespace: "n", Issuer: "i", JTI: "j", ExpiresAt: now.Add(time.Hour)}))
		must(t, s.RevokeToken(ctx, storage.RevokedToken{WorkspaceID: ws, JTI: "t", ExpiresAt: now.Add(time.Hour), RevokedAt: now}))
		must(t, s.CreateInitialAccessToken(ctx, storage.InitialAccessToken{WorkspaceID: ws, ID: "iat", Hash: []byte("h"), UsesLeft: 3, CreatedAt: now}))
	}
	must(t, s.DeleteWorkspace(ctx, "a"))

	// A is gone with everything in it.
	_, err := s.GetClient(ctx, "a", "app")
	wantErr(t, err, storage.ErrNotFound, "A's client after delete")
	_, err = s.GetService(ctx, "a", "api")
	wantErr(t, err, storage.ErrNotFound, "A's service after delete")
	keys, err := s.ListSigningKeys(ctx, "a")
	must(t, err)
	if len(keys) != 0 {
		t.Fatalf("A's keys survive its deletion: %v", kids(keys))
	}
	revoked, err := s.IsTokenRevoked(ctx, "a", "t")
	must(t, err)
	if revoked {
		t.Fatal("A's revocation survives its deletion")
	}

	// B is intact.
	_, err = s.GetWorkspace(ctx, "b")
	must(t, err)
	_, err = s.GetClient(ctx, "b", "app")
	must(t, err)
	svc, err := s.GetService(ctx, "b", "api")
	must(t, err)
	if len(svc.Scopes) != 1 {
		t.Fatalf("B's scopes after deleting A: %+v", svc.Scopes)
	}
	keys, err = s.ListSigningKeys(ctx, "b")
	must(t, err)
	if len(keys) != 1 {
		t.Fatalf("B's keys after deleting A: %v", kids(keys))
	}
	wantErr(t, s.UseJTI(ctx, storage.JTI{WorkspaceID: "b", Namespace: "n", Issuer: "i", JTI: "j", ExpiresAt: now.Add(time.Hour)}),
		storage.ErrAlreadyExists, "B's jti after deleting A")
	revoked, err = s.IsTokenRevoked(ctx, "b", "t")
	must(t, err)
	if !revoked {
		t.Fatal("B's revocation lost when deleting A")
	}
	_, err = s.ConsumeInitialAccessToken(ctx, "b", []byte("h"), now)
	must(t, err)
}
