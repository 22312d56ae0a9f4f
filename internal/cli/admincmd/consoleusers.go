package admincmd

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// Commands of the console: console users, "latchkey admin users create
// --admin" for the first console admin, and the CLI side of the
// console's "View secret" (a code e-mailed to the client's contact, then
// the secret), so nothing the console does is impossible here.

const consoleUsersPath = "/console-users"

// addConsoleCommands adds the console commands to the admin command root.
func addConsoleCommands(g *globals, root *cobra.Command) {
	root.AddCommand(consoleUsersCmd(g))
	for _, c := range root.Commands() {
		switch c.Name() {
		case "clients":
			c.AddCommand(secretCodeCmd(g), revealSecretCmd(g))
		case "users":
			for _, sub := range c.Commands() {
				if sub.Name() == "create" {
					addAdminFlag(g, sub)
				}
			}
		}
	}
}

func consoleUsersCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "console-users", Aliases: []string{"console-user"},
		Short: "Manage the admin users of the web console (server-wide; --workspace does not apply)"}
	var lf listFlags
	list := &cobra.Command{Use: "list", Short: "List console users", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := g.do(cmd.Context(), "GET", consoleUsersPath, lf.values(), nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, consoleUserTable)
		}}
	lf.add(list)
	get := &cobra.Command{Use: "get ID", Short: "Show a console user", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := g.do(cmd.Context(), "GET", consoleUsersPath+"/"+seg(args[0]), nil, nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, consoleUserDetail)
		}}
	del := &cobra.Command{Use: "delete ID", Short: "Delete a console user and sign it out", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := g.do(cmd.Context(), "DELETE", consoleUsersPath+"/"+seg(args[0]), nil, nil); err != nil {
				return err
			}
			return g.printDone(cmd, "deleted console user "+args[0])
		}}
	cmd.AddCommand(list, get, consoleUserCreateCmd(g), consoleUserUpdateCmd(g), del, consoleUserPasswordCmd(g))
	return cmd
}

// consoleUserFlags are the fields of create and update.
type consoleUserFlags struct {
	email, display, role string
	workspaces           []string
	disabled             bool
}

func (cf *consoleUserFlags) add(cmd *cobra.Command, roleDefault string) {
	f := cmd.Flags()
	f.StringVar(&cf.email, "email", "", "e-mail address")
	f.StringVar(&cf.display, "display-name", "", "display name")
	f.StringVar(&cf.role, "role", roleDefault, "super_admin, workspace_admin or workspace_viewer")
	f.StringSliceVar(&cf.workspaces, "workspaces", nil, "workspaces a workspace role applies to (comma-separated or repeat)")
	f.BoolVar(&cf.disabled, "disabled", false, "disabled users cannot sign in")
}

// create is the body of a create: the flags, the role defaulted.
func (cf *consoleUserFlags) create() adminclient.ConsoleUserCreate {
	return adminclient.ConsoleUserCreate{Email: cf.email, DisplayName: cf.display, Role: cf.role,
		Workspaces: cf.workspaces, Disabled: cf.disabled}
}

// update is the body of an update: the flags given.
func (cf *consoleUserFlags) update(cmd *cobra.Command) adminclient.ConsoleUserUpdate {
	return adminclient.ConsoleUserUpdate{
		Email: ifChanged(cmd, "email", cf.email), DisplayName: ifChanged(cmd, "display-name", cf.display),
		Role: ifChanged(cmd, "role", cf.role), Workspaces: ifChanged(cmd, "workspaces", cf.workspaces),
		Disabled: ifChanged(cmd, "disabled", cf.disabled),
	}
}

func consoleUserCreateCmd(g *globals) *cobra.Command {
	var cf consoleUserFlags
	var username string
	var fromStdin bool
	cmd := &cobra.Command{Use: "create", Short: "Create a console user (prompts for the password)", Args: cobra.NoArgs,
		Example: `  latchkey admin console-users create --username alice --email alice@example.com
  printf '%s\n' "$PW" | latchkey admin console-users create --username bob --role workspace_viewer --workspaces default --password-stdin`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body := cf.create()
			body.Username = username
			return createConsoleUser(cmd, g, fromStdin, body)
		}}
	cmd.Flags().StringVar(&username, "username", "", "sign-in name (lower-cased)")
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	cf.add(cmd, "super_admin")
	return cmd
}

// createConsoleUser reads the password (prompt or stdin, never a flag:
// it would show in shell history and the process list) and creates the
// console user.
func createConsoleUser(cmd *cobra.Command, g *globals, fromStdin bool, body adminclient.ConsoleUserCreate) error {
	if body.Username == "" {
		return errors.New("--username is required")
	}
	pw, err := readNewPassword(cmd, fromStdin)
	if err != nil {
		return err
	}
	body.Password = pw
	raw, err := g.do(cmd.Context(), "POST", consoleUsersPath, nil, body)
	if err != nil {
		return err
	}
	return g.print(cmd, raw, consoleUserDetail)
}

func consoleUserUpdateCmd(g *globals) *cobra.Command {
	var cf consoleUserFlags
	cmd := &cobra.Command{Use: "update ID", Short: "Change role, workspaces, disabled, e-mail or display name (only the flags given)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := cf.update(cmd)
			if body == (adminclient.ConsoleUserUpdate{}) {
				return errors.New("nothing to change: give at least one of --email, --display-name, --role, --workspaces, --disabled")
			}
			raw, err := g.do(cmd.Context(), "PATCH", consoleUsersPath+"/"+seg(args[0]), nil, body)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, consoleUserDetail)
		}}
	cf.add(cmd, "")
	return cmd
}

func consoleUserPasswordCmd(g *globals) *cobra.Command {
	var fromStdin bool
	cmd := &cobra.Command{Use: "set-password ID", Short: "Set a console user's password (signs the user out everywhere)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readNewPassword(cmd, fromStdin)
			if err != nil {
				return err
			}
			if _, err := g.do(cmd.Context(), "PUT", consoleUsersPath+"/"+seg(args[0])+"/password", nil,
				adminclient.PasswordRequest{Password: pw}); err != nil {
				return err
			}
			return g.printDone(cmd, "password set for console user "+args[0])
		}}
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	return cmd
}

// addAdminFlag makes "users create --admin" create a console admin user
// instead of a directory user (the bootstrap admin creates the first
// console admin from the CLI). The directory command keeps its
// behaviour without the flag.
func addAdminFlag(g *globals, create *cobra.Command) {
	f := create.Flags()
	if f.Lookup("admin") != nil {
		return
	}
	f.Bool("admin", false, "create a console admin user (web console sign-in) instead of a directory user")
	for _, fl := range []struct{ name, help string }{
		{"password-stdin", "with --admin: read the password from the first line of standard input"},
	} {
		if f.Lookup(fl.name) == nil {
			f.Bool(fl.name, false, fl.help)
		}
	}
	if f.Lookup("role") == nil {
		f.String("role", "super_admin", "with --admin: super_admin, workspace_admin or workspace_viewer")
	}
	if f.Lookup("workspaces") == nil {
		f.StringSlice("workspaces", nil, "with --admin: workspaces a workspace role applies to")
	}
	directory := create.RunE
	create.RunE = func(cmd *cobra.Command, args []string) error {
		fl := cmd.Flags()
		if admin, _ := fl.GetBool("admin"); !admin {
			return directory(cmd, args)
		}
		for _, name := range []string{"id", "external-id", "active", "service-user", "profile", "attribute"} {
			if fl.Lookup(name) != nil && fl.Changed(name) {
				return fmt.Errorf("--%s is for directory users; it cannot be used with --admin", name)
			}
		}
		var body adminclient.ConsoleUserCreate
		body.Username, _ = fl.GetString("username")
		body.Role, _ = fl.GetString("role")
		body.Workspaces, _ = fl.GetStringSlice("workspaces")
		body.Email, _ = fl.GetString("email")
		body.DisplayName, _ = fl.GetString("display-name")
		stdin, _ := fl.GetBool("password-stdin")
		return createConsoleUser(cmd, g, stdin, body)
	}
	create.Example = strings.TrimSpace(create.Example + "\n  latchkey admin users create --admin --username admin --email admin@example.com")
}

func consoleUserTable(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.Page[adminclient.ConsoleUser]](raw)
	if err != nil {
		return err
	}
	row(w, "ID", "USERNAME", "ROLE", "WORKSPACES", "DISABLED", "E-MAIL")
	for _, u := range p.Items {
		row(w, u.ID, u.Username, u.Role, join(u.Workspaces), yesNo(u.Disabled), u.Email)
	}
	nextPage(w, p.NextPageToken)
	return nil
}

func consoleUserDetail(w io.Writer, raw []byte) error {
	u, err := decode[adminclient.ConsoleUser](raw)
	if err != nil {
		return err
	}
	kv(w, "ID", u.ID, "Username", u.Username, "E-mail", u.Email, "Display name", u.DisplayName, "Role", u.Role,
		"Workspaces", join(u.Workspaces), "Disabled", yesNo(u.Disabled), "Created", fmtTime(&u.CreatedAt), "Updated", fmtTime(&u.UpdatedAt))
	return nil
}

// secretCodeCmd is the first step of viewing a client secret: the server
// e-mails a one-time code to the client's contact address.
func secretCodeCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "secret-code CLIENT_ID", Short: "E-mail a one-time code to the client's contact, to view its secret",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := g.do(cmd.Context(), "POST", g.wsPath()+"/clients/"+seg(args[0])+"/secret/code", nil, nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, func(w io.Writer, raw []byte) error {
				v, err := decode[adminclient.SecretCodeSent](raw)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "A code was sent to %s. It is valid for %s and %d tries:\n  latchkey admin clients reveal-secret %s --code CODE\n",
					v.SentTo, fmtSeconds(v.ExpiresIn), v.Tries, args[0])
				return nil
			})
		}}
}

func revealSecretCmd(g *globals) *cobra.Command {
	var code string
	cmd := &cobra.Command{Use: "reveal-secret CLIENT_ID --code CODE", Short: "Show the client secret, with the code from secret-code",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if code == "" {
				return errors.New("--code is required: run secret-code first and enter the code from the e-mail")
			}
			raw, err := g.do(cmd.Context(), "POST", g.wsPath()+"/clients/"+seg(args[0])+"/secret/reveal", nil,
				adminclient.RevealSecretRequest{Code: strings.TrimSpace(code)})
			if err != nil {
				return err
			}
			return g.print(cmd, raw, func(w io.Writer, raw []byte) error {
				v, err := decode[adminclient.RevealedSecret](raw)
				if err != nil {
					return err
				}
				kv(w, "Client ID", v.ClientID, "Client secret", v.ClientSecret)
				return nil
			})
		}}
	cmd.Flags().StringVar(&code, "code", "", "the 6-digit code from the e-mail")
	return cmd
}
