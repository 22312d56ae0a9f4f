package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/bench"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/storage/sqlstore"
)

// TestBenchScaleSeedAndRandomClients seeds a workspace the way `latchkey
// bench seed` does, on both backends, while the server runs, and drives
// client_credentials over the seeded clients at random: every seeded
// client authenticates with its derived secret (none fails), and the
// seeded users, grants and consents are stored.
func TestBenchScaleSeedAndRandomClients(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dsn := ""
			if backend == "postgres" {
				dsn = postgresSchemaDSN(t)
			}
			admin := "e2e-admin-" + e2etest.RandomToken(32)
			cfg := e2etest.LoadConfig(t, e2etest.Config{DataDir: t.TempDir(), DSN: dsn, AdminToken: admin})
			srv := e2etest.StartServer(t, cfg, time.Now, &e2etest.SyncBuffer{})
			t.Cleanup(func() { srv.Stop(t) })

			req, _ := http.NewRequest(http.MethodPost, srv.BaseURL+"/admin/v1/workspaces",
				strings.NewReader(`{"id":"scale","name":"Scale","settings":{"signing_alg":"ES256"}}`))
			req.Header.Set("Authorization", "Bearer "+admin)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != http.StatusCreated {
				t.Fatalf("create workspace: %v %v", resp, err)
			}
			resp.Body.Close()

			store, err := sqlstore.Open(t.Context(), cfg.Storage, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			kr, _, err := secrets.LoadOrCreate(cfg.MasterKeyFile)
			if err != nil {
				t.Fatal(err)
			}
			seed := bench.Seed{Workspace: "scale", Clients: 120, Users: 900, Services: 7, Grants: 300, Consents: 400,
				Batch: 250, Key: "test-seed-key"}
			if err := bench.RunSeed(t.Context(), store, kr, seed, io.Discard); err != nil {
				t.Fatalf("seed: %v", err)
			}
			if err := bench.RunSeed(t.Context(), store, kr, bench.Seed{Workspace: "absent", Clients: 1, Key: "k", Batch: 1}, io.Discard); err == nil {
				t.Fatal("seeding a missing workspace succeeded")
			}
			users, err := store.ListUsers(t.Context(), "scale", storage.ListOptions{Query: "user0000899"})
			if err != nil || len(users.Items) != 1 || users.Items[0].ID != bench.ScaleUserID(899) {
				t.Fatalf("the last seeded user is not found: %+v, %v", users.Items, err)
			}

			bcfg := bench.Config{Server: srv.BaseURL, AdminToken: admin, Concurrency: 2, Duration: 400 * time.Millisecond}
			row, err := bench.RunScale(t.Context(), bcfg, bench.Scale{Workspace: "scale", Clients: seed.Clients, Key: seed.Key, Alg: "ES256"},
				50*time.Millisecond, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if row.Result.Requests == 0 || row.Result.Failures != 0 {
				t.Fatalf("%d requests, %d failures (first: %v)", row.Result.Requests, row.Result.Failures, row.Result.FirstErr)
			}
		})
	}
}
