package admincmd

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
)

type iatView struct {
	ID          string     `json:"id"`
	Description string     `json:"description"`
	ExpiresAt   *time.Time `json:"expires_at"`
	UsesLeft    *int       `json:"uses_left"`
	CreatedAt   *time.Time `json:"created_at"`
	Token       string     `json:"token"`
}

func iatCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "initial-access-tokens", Aliases: []string{"iat"},
		Short: "Manage initial access tokens for dynamic client registration (RFC 7591)"}
	list := &cobra.Command{Use: "list", Short: "List initial access tokens", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := g.client.do(cmd.Context(), "GET", g.wsPath()+"/initial-access-tokens", nil, nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, iatTable)
		}}
	var desc string
	var expires time.Duration
	var uses int
	create := &cobra.Command{Use: "create", Short: "Create an initial access token (printed once)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body := map[string]any{"description": desc, "expires_in": durationSeconds(expires), "max_uses": uses}
			raw, err := g.client.do(cmd.Context(), "POST", g.wsPath()+"/initial-access-tokens", nil, body)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, iatDetail)
		}}
	create.Flags().StringVar(&desc, "description", "", "what the token is for")
	create.Flags().DurationVar(&expires, "expires-in", 24*time.Hour, "lifetime (0 = never expires)")
	create.Flags().IntVar(&uses, "max-uses", 1, "number of registrations allowed (0 = unlimited)")
	del := &cobra.Command{Use: "delete ID", Short: "Revoke an initial access token", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := g.client.do(cmd.Context(), "DELETE", g.wsPath()+"/initial-access-tokens/"+seg(args[0]), nil, nil); err != nil {
				return err
			}
			return g.printDone(cmd, "deleted initial access token "+args[0])
		}}
	cmd.AddCommand(list, create, del)
	return cmd
}

func usesLeft(n *int) string {
	if n == nil {
		return "unlimited"
	}
	return fmt.Sprint(*n)
}

func iatTable(w io.Writer, raw []byte) error {
	p, err := decode[page[iatView]](raw)
	if err != nil {
		return err
	}
	row(w, "ID", "DESCRIPTION", "USES LEFT", "EXPIRES", "CREATED")
	for _, t := range p.Items {
		row(w, t.ID, t.Description, usesLeft(t.UsesLeft), fmtTime(t.ExpiresAt), fmtTime(t.CreatedAt))
	}
	return nil
}

func iatDetail(w io.Writer, raw []byte) error {
	t, err := decode[iatView](raw)
	if err != nil {
		return err
	}
	kv(w, "ID", t.ID, "Description", t.Description, "Uses left", usesLeft(t.UsesLeft), "Expires", fmtTime(t.ExpiresAt),
		"Token", t.Token)
	row(w, "")
	row(w, "Store the token now: it is shown only once.")
	return nil
}
