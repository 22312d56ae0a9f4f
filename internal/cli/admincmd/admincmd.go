package admincmd

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// Defaults of the global flags.
const (
	defaultServer    = "http://127.0.0.1:8080"
	defaultWorkspace = "default"
)

// globals are the persistent flags shared by every subcommand.
type globals struct {
	server    string
	token     string
	workspace string
	output    string
	client    *adminclient.Client
}

// NewCommand returns the "admin" command with all its subcommands.
func NewCommand() *cobra.Command {
	g := &globals{}
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Manage workspaces, services, clients and keys through the admin API",
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if g.output != "table" && g.output != "json" {
				return fmt.Errorf("--output must be table or json, not %q", g.output)
			}
			if u, err := url.Parse(g.server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("--server must be an http(s) URL, not %q", g.server)
			}
			if !cmd.Flags().Changed("token") {
				// Read at run time, not as the flag's default, so the
				// token never appears in --help output.
				g.token = os.Getenv("LATCHKEY_ADMIN_TOKEN")
			}
			g.client = adminclient.New(g.server, g.token)
			return nil
		},
		SilenceUsage: true,
	}
	f := cmd.PersistentFlags()
	f.StringVar(&g.server, "server", envOr("LATCHKEY_SERVER", defaultServer), "server base URL (env LATCHKEY_SERVER)")
	f.StringVar(&g.token, "token", "", "admin bearer token (env LATCHKEY_ADMIN_TOKEN)")
	f.StringVarP(&g.workspace, "workspace", "w", defaultWorkspace, "workspace ID")
	f.StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	cmd.AddCommand(workspacesCmd(g), servicesCmd(g), clientsCmd(g), keysCmd(g), iatCmd(g))
	cmd.AddCommand(encryptionKeysCmd(g)) // request object encryption keys (encryptionkeys.go)
	cmd.AddCommand(usersCmd(g), profilesCmd(g), certificatesCmd(g), issuersCmd(g), jwtBearerCmd(g))
	cmd.AddCommand(policiesCmd(g), adminTokensCmd(g))
	cmd.AddCommand(auditCmd(g), outboxCmd(g))
	addUserAuthCommands(g, cmd)
	addConsoleCommands(g, cmd)
	addConfigCommands(g, cmd)
	return cmd
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// wsPath is the API path of the selected workspace.
func (g *globals) wsPath() string { return "/workspaces/" + seg(g.workspace) }

// print writes raw JSON unchanged (--output json) or renders it as a table.
func (g *globals) print(cmd *cobra.Command, raw []byte, table func(io.Writer, []byte) error) error {
	out := cmd.OutOrStdout()
	if g.output == "json" {
		_, err := out.Write(raw)
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if err := table(tw, raw); err != nil {
		return err
	}
	return tw.Flush()
}

// printDone reports a request without a response body.
func (g *globals) printDone(cmd *cobra.Command, what string) error {
	if g.output == "json" {
		_, err := fmt.Fprintln(cmd.OutOrStdout(), `{}`)
		return err
	}
	_, err := fmt.Fprintln(cmd.OutOrStdout(), what)
	return err
}

// row writes tab-separated cells.
func row(w io.Writer, cells ...string) {
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// kv renders one object as a two-column table.
func kv(w io.Writer, pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		row(w, pairs[i]+":", pairs[i+1])
	}
}

// decode reads a response into its adminclient type.
func decode[T any](raw []byte) (T, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("admin: unexpected response: %w", err)
	}
	return v, nil
}

func fmtTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func fmtSeconds(s int64) string {
	if s == 0 {
		return "-"
	}
	return (time.Duration(s) * time.Second).String()
}

func join(list []string) string {
	if len(list) == 0 {
		return "-"
	}
	return strings.Join(list, ",")
}

type listFlags struct {
	limit     int
	pageToken string
	query     string
}

func (l *listFlags) add(cmd *cobra.Command) {
	cmd.Flags().IntVar(&l.limit, "limit", 0, "page size (1-500; default 50)")
	cmd.Flags().StringVar(&l.pageToken, "page-token", "", "next_page_token of the previous page")
	cmd.Flags().StringVarP(&l.query, "query", "q", "", "keep items whose ID or name (users: ID, username or email) starts with this text, ignoring the case of A-Z")
}

func (l *listFlags) values() url.Values {
	return adminclient.ListOptions{Limit: l.limit, PageToken: l.pageToken, Query: l.query}.Values()
}

// nextPage prints the token of the next page under a table.
func nextPage(w io.Writer, token string) {
	if token != "" {
		fmt.Fprintf(w, "\nnext page: --page-token %s\n", token)
	}
}

// parsePairs reads repeated name=value flags.
func parsePairs(flag string, pairs []string) (map[string]string, error) {
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--%s must be name=value, got %q", flag, p)
		}
		out[k] = v
	}
	return out, nil
}

// ifChanged is &v when the flag was given, nil otherwise: requests carry
// only what the user asked for, so an update changes nothing else.
func ifChanged[T any](cmd *cobra.Command, flag string, v T) *T {
	if cmd.Flags().Changed(flag) {
		return &v
	}
	return nil
}

// durationSeconds converts a duration flag to API seconds.
func durationSeconds(d time.Duration) int64 { return int64(d / time.Second) }
