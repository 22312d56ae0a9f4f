package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/internal/bench"
	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/storage/sqlstore"
)

// envSeedKey carries the seed's key from `bench seed` to `bench --scale-*`.
const envSeedKey = "LATCHKEY_BENCH_SEED_KEY"

func newBenchSeedCommand() *cobra.Command {
	var seed bench.Seed
	var bulkLoad bool
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Fill a workspace with clients, users, services and grants for scale benchmarks",
		Long: `seed writes a scale data set straight into the database of the server's
configuration (the same flags and environment as serve): N machine clients
(client_credentials, client_secret_basic) named scale-client-000000..., users
user0000000..., services with one scope each, token families with a refresh
token each, and consents (at most users x clients: one per pair), in
transactions of --batch rows written by multi-row INSERTs. The workspace must
exist. Each client's secret is derived from --key (printed when generated),
so "latchkey bench --scale-workspace W --scale-clients N" can authenticate as
any of them. Never run it against a production database.

--bulk-load (SQLite only; ignored on PostgreSQL) is for a fresh database that
no server is using: the seed's one connection runs with PRAGMA
synchronous=OFF and a 512 MB page cache, so its commits do not wait for the
disk. If the machine crashes during the load the database may be lost or
corrupt: delete it and seed again. At the end synchronous=FULL is restored and
the write-ahead log is checkpointed into the database file and fsynced, so
what the command reports as seeded is durable. Servers' connections keep
synchronous=FULL throughout; their durability does not change.`,
		Args: cobra.NoArgs,
	}
	cf := addConfigFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&seed.Workspace, "workspace", "scale", "existing workspace to fill")
	f.IntVar(&seed.Clients, "clients", 100_000, "machine clients")
	f.IntVar(&seed.Users, "users", 1_000_000, "users")
	f.IntVar(&seed.Services, "services", 1_000, "services (one scope each)")
	f.IntVar(&seed.Grants, "grants", 0, "token families with a stored refresh token each")
	f.IntVar(&seed.Consents, "consents", 0, "remembered consents")
	f.IntVar(&seed.Batch, "batch", 10_000, "rows per transaction")
	f.BoolVar(&bulkLoad, "bulk-load", false, "SQLite: seed a fresh database with synchronous=OFF, fsynced once at the end (see above)")
	f.StringVar(&seed.Key, "key", "", "key deriving the clients' secrets (env "+envSeedKey+"; generated and printed when unset)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if seed.Key == "" {
			seed.Key = os.Getenv(envSeedKey)
		}
		if seed.Key == "" {
			b := make([]byte, 24)
			_, _ = rand.Read(b)
			seed.Key = base64.RawURLEncoding.EncodeToString(b)
			fmt.Fprintf(cmd.OutOrStdout(), "%s=%s\n", envSeedKey, seed.Key)
		}
		cfg, err := cf.load()
		if err != nil {
			return err
		}
		return runBenchSeed(cmd.Context(), cmd.ErrOrStderr(), cfg, seed, bulkLoad)
	}
	return cmd
}

func runBenchSeed(ctx context.Context, progress io.Writer, cfg config.Resolved, seed bench.Seed, bulkLoad bool) error {
	kr, err := openKeyring(cfg)
	if err != nil {
		return err
	}
	store, err := sqlstore.Open(ctx, cfg.Storage, newLogger(io.Discard, cfg))
	if err != nil {
		return err
	}
	defer store.Close()
	start := time.Now()
	finish := func(context.Context) error { return nil }
	if bulkLoad {
		if finish, err = store.BeginBulkLoad(ctx); err != nil {
			return err
		}
	}
	seedErr := bench.RunSeed(ctx, store, kr, seed, progress)
	synced := time.Now()
	// Finish even after a failure: what was committed becomes durable.
	if err := errors.Join(seedErr, finish(ctx)); err != nil {
		return err
	}
	if bulkLoad {
		fmt.Fprintf(progress, "bulk load checkpointed and synced in %s\n", time.Since(synced).Round(time.Millisecond))
	}
	fmt.Fprintf(progress, "done in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// openKeyring opens the master keys exactly as serve does, without
// creating a key file: seeding a database whose key does not exist would
// write secrets no server can read.
func openKeyring(cfg config.Resolved) (*secrets.Keyring, error) {
	if len(cfg.MasterKeys) > 0 {
		return secrets.New(cfg.MasterKeys...)
	}
	if _, err := os.Stat(cfg.MasterKeyFile); err != nil {
		return nil, fmt.Errorf("master key file %s: %w (start the server once first)", cfg.MasterKeyFile, err)
	}
	kr, _, err := secrets.LoadOrCreate(cfg.MasterKeyFile)
	return kr, err
}
