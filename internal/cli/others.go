package cli

import (
	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/internal/cli/admincmd"
	"github.com/latchkey/latchkey/internal/cli/keyscmd"
	"github.com/latchkey/latchkey/internal/cli/tokencmd"
)

// addOtherCommands adds the command trees owned by other packages:
//   - admin: internal/cli/admincmd (drives the admin REST API),
//   - bench: the load generator of internal/bench.
//
// They are kept here, apart from serve and migrate, so that their owners
// can wire them without touching the server commands.
func addOtherCommands(root *cobra.Command) {
	root.AddCommand(admincmd.NewCommand())
	root.AddCommand(tokencmd.NewCommand())
	root.AddCommand(keyscmd.NewCommand())
	addBenchCommand(root)
}

// addBenchCommand adds "latchkey bench", the HTTP load command of
// internal/bench.
func addBenchCommand(root *cobra.Command) {
	root.AddCommand(newBenchCommand())
}
