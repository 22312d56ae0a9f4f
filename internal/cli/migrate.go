package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/storage/sqlstore"
)

func newMigrateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the embedded schema migrations and print the schema version",
		Long: `Apply every embedded schema migration the database has not seen yet, then
print the schema version. Safe while servers run and when several processes
migrate at once. "latchkey serve" also migrates at start.`,
		Args: cobra.NoArgs,
	}
	cf := addConfigFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return runMigrate(cmd.Context(), cmd.OutOrStdout(), cf, true)
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Print the schema version without changing anything",
		Args:  cobra.NoArgs,
	}
	scf := addConfigFlags(status)
	status.RunE = func(cmd *cobra.Command, _ []string) error {
		return runMigrate(cmd.Context(), cmd.OutOrStdout(), scf, false)
	}
	cmd.AddCommand(status)
	return cmd
}

func runMigrate(ctx context.Context, out io.Writer, cf *configFlags, apply bool) error {
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	opts := []sqlstore.Option{}
	if apply {
		if err := prepareSQLiteDir(cfg); err != nil {
			return err
		}
	} else {
		if missingSQLite(cfg) {
			_, err := fmt.Fprintf(out, "storage: sqlite\nschema version: 0 (latest %d): database %s does not exist yet\n",
				sqlstore.LatestSchemaVersion(), cfg.SQLitePath)
			return err
		}
		opts = append(opts, sqlstore.WithoutMigrate())
	}
	store, err := sqlstore.Open(ctx, cfg.Storage, newLogger(io.Discard, cfg), opts...)
	if err != nil {
		return err
	}
	defer store.Close()
	return printSchemaStatus(ctx, out, store)
}

// prepareSQLiteDir creates the database's directory (mode 0700), as serve
// does, so that migrate works on a fresh machine.
func prepareSQLiteDir(cfg config.Resolved) error {
	if cfg.StorageDriver != config.DriverSQLite || cfg.SQLitePath == ":memory:" {
		return nil
	}
	return os.MkdirAll(filepath.Dir(cfg.SQLitePath), 0o700)
}

// missingSQLite reports a SQLite database file that does not exist; a
// status check must not create it.
func missingSQLite(cfg config.Resolved) bool {
	if cfg.StorageDriver != config.DriverSQLite || cfg.SQLitePath == ":memory:" {
		return false
	}
	_, err := os.Stat(cfg.SQLitePath)
	return errors.Is(err, fs.ErrNotExist)
}

func printSchemaStatus(ctx context.Context, out io.Writer, store *sqlstore.Store) error {
	current, err := store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	latest := sqlstore.LatestSchemaVersion()
	state := "up to date"
	if current < latest {
		state = fmt.Sprintf("%d migration(s) pending; run \"latchkey migrate\"", latest-current)
	} else if current > latest {
		state = "database is newer than this binary"
	}
	_, err = fmt.Fprintf(out, "storage: %s\nschema version: %d (latest %d): %s\n", store.Flavor(), current, latest, state)
	return err
}
