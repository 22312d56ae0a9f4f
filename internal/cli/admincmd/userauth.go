package admincmd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/latchkey/latchkey/adminclient"
)

// Commands of user sign-in under "users": passwords, consents and sessions
// (docs/authorization-flow.md).

// addUserAuthCommands adds the sign-in commands to the "users" command.
func addUserAuthCommands(g *globals, root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() != "users" {
			continue
		}
		c.AddCommand(setPasswordCmd(g), expirePasswordCmd(g),
			simpleCmd(g, "send-password-link ID", "E-mail the user a link to choose a password", 1, "POST",
				suffix("/password-link"), nil, nil),
			simpleCmd(g, "consents ID", "List the apps the user consented to", 1, "GET", suffix("/consents"), nil, consentTable),
			revokeConsentCmd(g),
			simpleCmd(g, "sessions ID", "List the user's browser sessions", 1, "GET", suffix("/sessions"), nil, sessionTable),
			revokeSessionsCmd(g))
	}
}

func suffix(s string) func([]string) string {
	return func(args []string) string { return "/users/" + seg(args[0]) + s }
}

// setPasswordCmd reads the password from a terminal prompt (twice) or,
// with --password-stdin, from the first line of standard input, so it
// never appears in shell history or the process list.
func setPasswordCmd(g *globals) *cobra.Command {
	var fromStdin bool
	cmd := &cobra.Command{Use: "set-password ID", Short: "Set the user's sign-in password", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readNewPassword(cmd, fromStdin)
			if err != nil {
				return err
			}
			_, err = g.do(cmd.Context(), "PUT", g.wsPath()+"/users/"+seg(args[0])+"/password", nil, adminclient.PasswordRequest{Password: pw})
			if err != nil {
				return err
			}
			return g.printDone(cmd, "password set for user "+args[0])
		}}
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	return cmd
}

func readNewPassword(cmd *cobra.Command, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		if pw := strings.TrimRight(line, "\r\n"); pw != "" {
			return pw, nil
		}
		return "", errors.New("no password on standard input")
	}
	fd := int(os.Stdin.Fd()) // #nosec G115 -- file descriptors fit in int
	if !term.IsTerminal(fd) {
		return "", errors.New("the password prompt needs a terminal; use --password-stdin")
	}
	first, err := prompt(cmd, fd, "New password: ")
	if err != nil {
		return "", err
	}
	second, err := prompt(cmd, fd, "Repeat it: ")
	if err != nil {
		return "", err
	}
	if first != second {
		return "", errors.New("the passwords do not match")
	}
	return first, nil
}

func prompt(cmd *cobra.Command, fd int, label string) (string, error) {
	fmt.Fprint(cmd.ErrOrStderr(), label)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(cmd.ErrOrStderr())
	return string(b), err
}

func revokeConsentCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "revoke-consent ID CLIENT_ID", Short: "Revoke a consent (the app's tokens for the user stop working)",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := g.do(cmd.Context(), "DELETE", g.wsPath()+"/users/"+seg(args[0])+"/consents/"+seg(args[1]), nil, nil)
			if err != nil {
				return err
			}
			return g.printDone(cmd, "revoked consent of user "+args[0]+" for client "+args[1])
		}}
}

func revokeSessionsCmd(g *globals) *cobra.Command {
	var session string
	cmd := &cobra.Command{Use: "revoke-sessions ID", Short: "Sign the user out (every browser, or --session SID)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := g.wsPath() + "/users/" + seg(args[0]) + "/sessions"
			if session != "" {
				path += "/" + seg(session)
			}
			if _, err := g.do(cmd.Context(), "DELETE", path, nil, nil); err != nil {
				return err
			}
			return g.printDone(cmd, "signed out user "+args[0])
		}}
	cmd.Flags().StringVar(&session, "session", "", "only this session ID")
	return cmd
}

func consentTable(w io.Writer, raw []byte) error {
	doc, err := decode[adminclient.List[adminclient.Consent]](raw)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tSCOPES\tUPDATED")
	for _, c := range doc.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.ClientID, strings.Join(c.Scopes, " "), c.UpdatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func sessionTable(w io.Writer, raw []byte) error {
	doc, err := decode[adminclient.List[adminclient.BrowserSession]](raw)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tSIGNED IN\tEXPIRES")
	for _, s := range doc.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.ID, s.AuthTime.Format(time.RFC3339), s.ExpiresAt.Format(time.RFC3339))
	}
	return tw.Flush()
}
