package admincmd

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// encryptionKeysCmd manages the workspace's request object encryption
// keys (RFC 9101 §6.1; docs/security.md T12a).
func encryptionKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "encryption-keys", Aliases: []string{"encryption-key"},
		Short: "Manage a workspace's request object encryption keys (published in the JWKS with use \"enc\")"}
	list := &cobra.Command{Use: "list", Short: "List request object encryption keys, the active one first (metadata only)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := g.do(cmd.Context(), "GET", g.wsPath()+"/encryption-keys", nil, nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, encryptionKeyTable)
		}}
	rotate := &cobra.Command{Use: "rotate",
		Short: "Publish a new active key first; the old one stays published and decrypting until removed", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := g.do(cmd.Context(), "POST", g.wsPath()+"/encryption-keys/rotate", nil, nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, encryptionKeyTable)
		}}
	remove := &cobra.Command{Use: "remove KID",
		Short: "Remove a previous key at once: request objects encrypted to it are refused", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := g.do(cmd.Context(), "DELETE", g.wsPath()+"/encryption-keys/"+seg(args[0]), nil, nil); err != nil {
				return err
			}
			return g.printDone(cmd, "removed encryption key "+args[0])
		}}
	cmd.AddCommand(list, rotate, remove)
	return cmd
}

func encryptionKeyTable(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.List[adminclient.EncryptionKey]](raw)
	if err != nil {
		return err
	}
	row(w, "KID", "ALG", "STATE", "CREATED", "PREVIOUS SINCE")
	for _, k := range p.Items {
		row(w, k.KID, k.Alg, k.State, fmtTime(&k.CreatedAt), fmtTime(k.RetiredAt))
	}
	return nil
}
