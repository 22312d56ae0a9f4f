package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Fill a workspace with clients, users, services and grants for scale benchmarks",
		Long: `seed writes a scale data set straight into the database of the server's
configuration (the same flags and environment as serve): N machine clients
(client_credentials, client_secret_basic) named scale-client-000000..., users
user0000000..., services with one scope each, token families with a refresh
token each, and consents, in transactions of --batch rows. The workspace must
exist. Each client's secret is derived from --key (printed when generated),
so "latchkey bench --scale-workspace W --scale-clients N" can authenticate as
any of them. Never run it against a production database.`,
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
	f.IntVar(&seed.Batch, "batch", 2_000, "rows per transaction")
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
		return runBenchSeed(cmd.Context(), cmd.ErrOrStderr(), cfg, seed)
	}
	return cmd
}

func runBenchSeed(ctx context.Context, progress io.Writer, cfg config.Resolved, seed bench.Seed) error {
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
	if err := bench.RunSeed(ctx, store, kr, seed, progress); err != nil {
		return err
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
