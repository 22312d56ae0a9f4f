package admincmd

import (
	"cmp"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

func workspacesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "workspaces", Aliases: []string{"workspace", "ws"}, Short: "Manage workspaces (tenants)"}
	var lf listFlags
	list := &cobra.Command{Use: "list", Short: "List workspaces", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := g.do(cmd.Context(), "GET", "/workspaces", lf.values(), nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, workspaceTable)
		}}
	lf.add(list)
	get := &cobra.Command{Use: "get ID", Short: "Show a workspace", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := g.do(cmd.Context(), "GET", "/workspaces/"+seg(args[0]), nil, nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, workspaceDetail)
		}}
	del := &cobra.Command{Use: "delete ID", Short: "Delete a workspace and everything in it", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := g.do(cmd.Context(), "DELETE", "/workspaces/"+seg(args[0]), nil, nil); err != nil {
				return err
			}
			return g.printDone(cmd, "deleted workspace "+args[0])
		}}
	cmd.AddCommand(list, get, workspaceWriteCmd(g, true), workspaceWriteCmd(g, false), del,
		workspaceEnableCmd(g, true), workspaceEnableCmd(g, false))
	return cmd
}

// workspaceWriteCmd is "create ID" or "update ID"; update sends only the
// flags given.
func workspaceWriteCmd(g *globals, create bool) *cobra.Command {
	var (
		name, alg string
		ttl       time.Duration
		methods   []string
		enabled   bool
		brand     brandFlags
		extra     wsSettingFlags
	)
	cmd := &cobra.Command{Args: cobra.ExactArgs(1)}
	cmd.Use, cmd.Short = "update ID", "Change a workspace's name or settings"
	if create {
		cmd.Use, cmd.Short = "create ID", "Create a workspace and its signing keys"
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		body := adminclient.WorkspaceRequest{Name: ifChanged(cmd, "name", name), Enabled: ifChanged(cmd, "enabled", enabled)}
		if create {
			body.ID, body.Name = &args[0], &name
		}
		settings := adminclient.SettingsRequest{
			AccessTokenTTL: ifChanged(cmd, "access-token-ttl", durationSeconds(ttl)), SigningAlg: ifChanged(cmd, "signing-alg", alg),
			AllowedAuthMethods: ifChanged(cmd, "allowed-auth-method", methods), Branding: brand.body(cmd),
		}
		extra.apply(cmd, &settings)
		if settings != (adminclient.SettingsRequest{}) {
			body.Settings = &settings
		}
		method, path := "PATCH", "/workspaces/"+seg(args[0])
		if create {
			method, path = "POST", "/workspaces"
		}
		raw, err := g.do(cmd.Context(), method, path, nil, body)
		if err != nil {
			return err
		}
		return g.print(cmd, raw, workspaceDetail)
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "display name")
	f.DurationVar(&ttl, "access-token-ttl", 0, "access token lifetime (1m..24h)")
	f.StringVar(&alg, "signing-alg", "", "signing algorithm: RS256, ES256, PS256 or EdDSA")
	f.StringSliceVar(&methods, "allowed-auth-method", nil, "allowed token endpoint auth method (repeat; none given = all)")
	f.BoolVar(&enabled, "enabled", true, "whether the workspace is enabled")
	brand.add(cmd)
	extra.add(cmd)
	return cmd
}

func workspaceTable(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.Page[adminclient.Workspace]](raw)
	if err != nil {
		return err
	}
	row(w, "ID", "NAME", "ENABLED", "ALG", "TOKEN TTL", "ISSUER")
	for _, ws := range p.Items {
		row(w, ws.ID, ws.Name, yesNo(ws.Enabled), ws.Settings.SigningAlg, fmtSeconds(ws.Settings.AccessTokenTTL), ws.Issuer)
	}
	nextPage(w, p.NextPageToken)
	return nil
}

func workspaceDetail(w io.Writer, raw []byte) error {
	ws, err := decode[adminclient.Workspace](raw)
	if err != nil {
		return err
	}
	kv(w, "ID", ws.ID, "Name", ws.Name, "Enabled", yesNo(ws.Enabled), "Issuer", ws.Issuer,
		"Signing alg", ws.Settings.SigningAlg, "Access token TTL", fmtSeconds(ws.Settings.AccessTokenTTL),
		"Key rotation", fmtSeconds(ws.Settings.KeyRotationPeriod), "Auth methods", join(ws.Settings.AllowedAuthMethods),
		"Max assertion lifetime", fmtSeconds(ws.Settings.MaxAssertionLifetime),
		"Strict assertion aud", yesNo(ws.Settings.StrictAssertionAudience), "DPoP nonces", yesNo(ws.Settings.DPoPNonce),
		"PAR request_uri lifetime", fmtSeconds(ws.Settings.PushedRequestTTL),
		"FAPI 2.0 profile", cmp.Or(ws.Settings.FAPIProfile, "off"))
	printBranding(w, ws.Settings.Branding)
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
