package admincmd

import (
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// Commands of the scoped admin API tokens (server-wide; they need a
// super_admin token, docs/security.md O5).

const adminTokensPath = "/admin-tokens"

func adminTokensCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "admin-tokens", Aliases: []string{"admin-token"},
		Short: "Manage scoped admin API tokens (server-wide; --workspace does not apply)"}
	list := &cobra.Command{Use: "list", Short: "List admin tokens with their role and last use", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := g.do(cmd.Context(), "GET", adminTokensPath, nil, nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, adminTokenTable)
		}}
	var body adminclient.AdminTokenCreate
	var expires time.Duration
	create := &cobra.Command{Use: "create", Short: "Create an admin token (printed once)", Args: cobra.NoArgs,
		Example: `  latchkey admin admin-tokens create --name ci --role workspace_admin --workspaces default --expires-in 720h`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body.ExpiresIn = durationSeconds(expires)
			raw, err := g.do(cmd.Context(), "POST", adminTokensPath, nil, body)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, adminTokenDetail)
		}}
	f := create.Flags()
	f.StringVar(&body.Name, "name", "", "what the token is for (shown in the audit log)")
	f.StringVar(&body.Role, "role", "workspace_viewer", "super_admin, workspace_admin or workspace_viewer")
	f.StringSliceVar(&body.Workspaces, "workspaces", nil, "workspaces a workspace role applies to (comma-separated or repeat)")
	f.DurationVar(&expires, "expires-in", 0, "lifetime (0 = never expires)")
	del := &cobra.Command{Use: "delete ID", Short: "Revoke an admin token at once", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := g.do(cmd.Context(), "DELETE", adminTokensPath+"/"+seg(args[0]), nil, nil); err != nil {
				return err
			}
			return g.printDone(cmd, "deleted admin token "+args[0])
		}}
	cmd.AddCommand(list, create, del)
	return cmd
}

func adminTokenTable(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.List[adminclient.AdminToken]](raw)
	if err != nil {
		return err
	}
	row(w, "ID", "NAME", "ROLE", "WORKSPACES", "EXPIRES", "LAST USED", "CREATED BY")
	for _, t := range p.Items {
		row(w, t.ID, t.Name, t.Role, join(t.Workspaces), fmtTime(t.ExpiresAt), fmtTime(t.LastUsedAt), t.CreatedBy)
	}
	return nil
}

func adminTokenDetail(w io.Writer, raw []byte) error {
	t, err := decode[adminclient.AdminToken](raw)
	if err != nil {
		return err
	}
	kv(w, "ID", t.ID, "Name", t.Name, "Role", t.Role, "Workspaces", join(t.Workspaces),
		"Expires", fmtTime(t.ExpiresAt), "Token", t.Token)
	row(w, "")
	row(w, "Store the token now: it is shown only once.")
	return nil
}
