package cli

import (
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
		logger := newLogger(cmd.ErrOrStderr(), cfg)
		srv, err := server.New(cmd.Context(), cfg, logger, server.WithStderr(cmd.ErrOrStderr()))
		if err != nil {
			return err
		}
		return srv.Run(cmd.Context())
	}
	return cmd
}
