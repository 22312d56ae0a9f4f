package cli

import (
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/internal/server"
)

func newServeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the authorization server",
		Long: `Run the authorization server.

With no flags it listens on 127.0.0.1:8080 and keeps its data (SQLite database
and master key file) in the data directory. On first start it creates the
master key file, the "default" workspace and, unless LATCHKEY_ADMIN_TOKEN is
set, an admin API token that is printed once to stderr.

Configuration precedence: defaults < YAML file < LATCHKEY_* environment < flags.
SIGTERM or SIGINT shuts down gracefully.`,
		Args: cobra.NoArgs,
	}
	cf := addConfigFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := cf.load()
		if err != nil {
			return err
		}
		tuneGC()
		logger := newLogger(cmd.ErrOrStderr(), cfg)
		startHeapProfiles(cmd.Context(), logger)
		srv, err := server.New(cmd.Context(), cfg, logger, server.WithStderr(cmd.ErrOrStderr()))
		if err != nil {
			return err
		}
		releaseStartupPages(logger)
		return srv.Run(cmd.Context())
	}
	return cmd
}

// serverGCPercent is the garbage collector's target for `latchkey serve`
// unless GOGC is set. The live heap of a server is a few megabytes while
// every token request allocates tens of kilobytes, so GOGC=100 collects
// every few hundred requests. Doubling the target halves the collections:
// in A/B runs of `latchkey bench` the server's CPU per client_credentials
// ES256 token went from 88-95 µs to 80-84 µs, per JWT bearer token from
// 248-276 µs to 240-255 µs, for a heap at most twice the (small) live set.
// The live set is not always small: each password check keeps 19 MiB of
// argon2id memory live, and a collection during concurrent sign-ins sets
// the target at three times that; internal/service collects once more
// after each derivation to size the heap again. A soft memory limit
// (GOMEMLIMIT) caps those spikes too but makes each sign-in cost 3 times
// the CPU while the hashes' memory is above it, so none is set by default
// (docs/benchmarks.md, "Memory, round two" and "round three").
const serverGCPercent = 200

// tuneGC applies serverGCPercent unless the operator chose GOGC.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serverGCPercent)
	}
}
