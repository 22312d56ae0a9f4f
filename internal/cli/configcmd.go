package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/internal/config"
)

// newConfigCommand groups configuration helpers: "check" validates the
// configuration serve would use (listing every problem), "reference"
// prints the Markdown reference of every key (the README's table).
func newConfigCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Check the configuration or print its reference", Args: cobra.NoArgs}
	check := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration (file, environment, flags) and report every problem",
		Args:  cobra.NoArgs,
	}
	cf := addConfigFlags(check)
	check.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := cf.load()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "configuration is valid: listen %s, base_url %s, storage %s\n",
			cfg.Listen, cfg.BaseURL, cfg.StorageDriver)
		return err
	}
	reference := &cobra.Command{
		Use:   "reference",
		Short: "Print the configuration reference as a Markdown table",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), config.Reference())
			return err
		},
	}
	cmd.AddCommand(check, reference)
	return cmd
}
