package admincmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/declarative"
)

// --- configuration as code (export, apply)

// addConfigCommands adds "export" and "apply" to the admin command.
func addConfigCommands(g *globals, cmd *cobra.Command) {
	cmd.AddCommand(exportCmd(g), applyCmd(g))
}

func exportCmd(g *globals) *cobra.Command {
	var all bool
	var file string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write a workspace (or --all) as one YAML document: configuration as code, never a secret",
		Example: `  latchkey admin export -w acme > acme.yaml
  latchkey admin export --all --file everything.yaml
  latchkey admin export -w acme -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := g.wsPath() + "/export"
			if all {
				path = "/export"
			}
			raw, err := g.do(cmd.Context(), http.MethodGet, path, nil, nil)
			if err != nil {
				return err
			}
			doc, err := declarative.Parse(raw)
			if err != nil {
				return fmt.Errorf("admin: unexpected export: %w", err)
			}
			var out []byte
			if g.output == "json" {
				out, err = doc.JSON()
			} else {
				out, err = doc.YAML()
			}
			if err != nil {
				return err
			}
			if file != "" {
				// The document holds no secret, but it does describe the
				// whole configuration: readable by its owner only.
				return os.WriteFile(file, out, 0o600)
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "export every workspace (kind List; super_admin token)")
	cmd.Flags().StringVar(&file, "file", "", "write the document to this file instead of standard output")
	return cmd
}

func applyCmd(g *globals) *cobra.Command {
	var file string
	var opts adminclient.ApplyOptions
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Make the server match a configuration document (validated whole first; a failure changes nothing)",
		Long: `Apply reads a document written by "latchkey admin export" (or by hand) and
makes the server match it: it creates what is missing and updates what
differs, member by member. Members a resource leaves out keep their
values; --prune also deletes the resources of the named workspaces that
the document does not name. The server first runs the whole apply
against a scratch copy, so an invalid resource changes nothing and the
error names it (clients[billing-api].redirect_uris[0]: ...).

Client secrets are given by reference and resolved here, never on the
server: client_secret: env:NAME (an environment variable) or
client_secret: file:PATH (a file, one trailing line break removed).`,
		Example: `  latchkey admin apply -f acme.yaml --dry-run
  BILLING_SECRET=... latchkey admin apply -f acme.yaml
  latchkey admin apply -f acme.yaml --prune`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := readApplyFile(cmd, file)
			if err != nil {
				return err
			}
			doc, err := declarative.Parse(body)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			if err := declarative.ResolveSecrets(doc, os.LookupEnv, os.ReadFile); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			js, err := doc.JSON()
			if err != nil {
				return err
			}
			raw, err := g.apply(cmd, doc, js, opts)
			if err != nil {
				return err
			}
			if g.output == "json" {
				_, err = cmd.OutOrStdout().Write(raw)
				return err
			}
			res, err := decode[adminclient.ApplyResult](raw)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprint(w, res.Diff)
			switch {
			case res.DryRun:
				fmt.Fprintln(w, "dry run: nothing was changed")
			case res.Applied:
				fmt.Fprintln(w, "applied")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", `the document (YAML or JSON; "-" reads standard input)`)
	f.BoolVar(&opts.DryRun, "dry-run", false, "validate and print the changes without making them")
	f.BoolVar(&opts.Prune, "prune", false, "delete the resources of the named workspaces that the document does not name")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func readApplyFile(cmd *cobra.Command, file string) ([]byte, error) {
	var rd io.Reader
	if file == "-" {
		rd = cmd.InOrStdin()
	} else {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		rd = f
	}
	b, err := io.ReadAll(io.LimitReader(rd, declarative.MaxDocumentBytes+1))
	if err != nil {
		return nil, err
	}
	return b, nil
}

// apply sends the document: a Workspace document to its workspace's
// route (a workspace_admin token suffices), falling back to the
// server-wide route (super_admin) when the workspace does not exist yet;
// a List to the server-wide route.
func (g *globals) apply(cmd *cobra.Command, doc *declarative.Document, js []byte, opts adminclient.ApplyOptions) ([]byte, error) {
	q := opts.Values()
	if doc.Kind == declarative.KindWorkspace {
		raw, err := g.do(cmd.Context(), http.MethodPost, "/workspaces/"+seg(doc.WorkspaceID())+"/apply", q, json.RawMessage(js))
		var ae *adminclient.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
			return raw, err
		}
	}
	return g.do(cmd.Context(), http.MethodPost, "/apply", q, json.RawMessage(js))
}
