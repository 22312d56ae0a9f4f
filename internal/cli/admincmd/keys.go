package admincmd

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

func keysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Aliases: []string{"key"}, Short: "Manage a workspace's signing keys"}
	list := &cobra.Command{Use: "list", Short: "List signing keys (metadata only)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := g.do(cmd.Context(), "GET", g.wsPath()+"/keys", nil, nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, keyTable)
		}}
	var alg string
	rotate := &cobra.Command{Use: "rotate", Short: "Rotate: next→active, active→retired, publish a new next key", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var body any
			if alg != "" {
				body = adminclient.RotateKeysRequest{Alg: alg}
			}
			raw, err := g.do(cmd.Context(), "POST", g.wsPath()+"/keys/rotate", nil, body)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, keyTable)
		}}
	rotate.Flags().StringVar(&alg, "alg", "", "algorithm of the new key (RS256, ES256, PS256, EdDSA); default: unchanged")
	remove := &cobra.Command{Use: "remove KID", Short: "Remove a next or retired key at once (emergency)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := g.do(cmd.Context(), "DELETE", g.wsPath()+"/keys/"+seg(args[0]), nil, nil); err != nil {
				return err
			}
			return g.printDone(cmd, "removed key "+args[0])
		}}
	cmd.AddCommand(list, rotate, remove)
	return cmd
}

func keyTable(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.List[adminclient.Key]](raw)
	if err != nil {
		return err
	}
	row(w, "KID", "ALG", "STATE", "CREATED", "ACTIVATED", "PUBLISHED UNTIL")
	for _, k := range p.Items {
		row(w, k.KID, k.Alg, k.State, fmtTime(&k.CreatedAt), fmtTime(k.ActivatedAt), fmtTime(k.RetireUntil))
	}
	return nil
}
