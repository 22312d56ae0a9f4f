package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Execute runs the latchkey command line and exits with status 1 on error
// (2 for usage errors).
func Execute() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := NewRootCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "latchkey:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError marks errors in the command line itself.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// NewRootCommand builds the command tree. Tests execute it directly.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "latchkey",
		Short:         "Latchkey: an OAuth 2.0 / OpenID Connect authorization server",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newServeCommand(), newMigrateCommand(), newConfigCommand(), newVersionCommand())
	addOtherCommands(root)
	return root
}

// flagError marks a bad flag as a usage error. Key IDs and thumbprints are
// base64url and may begin with '-', which the parser takes for a flag: say
// how to pass one.
func flagError(cmd *cobra.Command, err error) error {
	if strings.Contains(err.Error(), "unknown shorthand flag") {
		err = fmt.Errorf("%w\n(an argument that begins with '-' goes after '--', as in: %s -- -argument)", err, cmd.CommandPath())
	}
	return usageError{err}
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printVersion(cmd.OutOrStdout())
		},
	}
}

func printVersion(w io.Writer) error {
	_, err := fmt.Fprintf(w, "latchkey %s\n", Version())
	return err
}
