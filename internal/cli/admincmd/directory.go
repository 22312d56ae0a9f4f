package admincmd

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// Commands of the directory: users, profiles, client certificates, trusted
// issuers and client JWT bearer settings.

// simpleCmd runs one request and prints its result.
func simpleCmd(g *globals, use, short string, nargs int, method string, path func(args []string) string,
	body func(cmd *cobra.Command) (any, error), table func(io.Writer, []byte) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(nargs),
		RunE: func(cmd *cobra.Command, args []string) error {
			var b any
			if body != nil {
				var err error
				if b, err = body(cmd); err != nil {
					return err
				}
			}
			raw, err := g.do(cmd.Context(), method, g.wsPath()+path(args), nil, b)
			if err != nil {
				return err
			}
			if table == nil {
				return g.printDone(cmd, strings.TrimSpace(short+" "+strings.Join(args, " ")))
			}
			return g.print(cmd, raw, table)
		}}
}

// listCmd is a paginated list command.
func listCmd(g *globals, short, path string, table func(io.Writer, []byte) error) *cobra.Command {
	var lf listFlags
	cmd := &cobra.Command{Use: "list", Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := g.do(cmd.Context(), "GET", g.wsPath()+path, lf.values(), nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, table)
		}}
	lf.add(cmd)
	return cmd
}

func fixed(p string) func([]string) string { return func([]string) string { return p } }

func withID(prefix string) func([]string) string {
	return func(args []string) string { return prefix + "/" + seg(args[0]) }
}

// --- users

func usersCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "users", Aliases: []string{"user"}, Short: "Manage users (JWT bearer subjects and service users)"}
	cmd.AddCommand(
		listCmd(g, "List users (--query matches id, username or email)", "/users", userTable),
		simpleCmd(g, "get ID", "Show a user", 1, "GET", withID("/users"), nil, userDetail),
		userWriteCmd(g, "create", "Create a user", 0),
		userWriteCmd(g, "update ID", "Update a user (only the given flags change)", 1),
		simpleCmd(g, "delete ID", "deleted user", 1, "DELETE", withID("/users"), nil, nil),
	)
	return cmd
}

func userWriteCmd(g *globals, use, short string, nargs int) *cobra.Command {
	var id, username, email, display, external string
	var active, service bool
	var profiles, attrs []string
	method, path := "POST", fixed("/users")
	if nargs == 1 {
		method, path = "PATCH", withID("/users")
	}
	cmd := simpleCmd(g, use, short, nargs, method, path, func(cmd *cobra.Command) (any, error) {
		body := adminclient.UserRequest{
			ID: ifChanged(cmd, "id", id), Username: ifChanged(cmd, "username", username), Email: ifChanged(cmd, "email", email),
			DisplayName: ifChanged(cmd, "display-name", display), ExternalID: ifChanged(cmd, "external-id", external),
			Active: ifChanged(cmd, "active", active), ServiceUser: ifChanged(cmd, "service-user", service),
			Profiles: ifChanged(cmd, "profile", profiles),
		}
		if cmd.Flags().Changed("attribute") {
			m, err := parsePairs("--attribute", attrs)
			if err != nil {
				return nil, err
			}
			body.Attributes = &m
		}
		return body, nil
	}, userDetail)
	cmd.Example = `  latchkey admin users create --username svc-user --service-user
  latchkey admin users create --username alice --email alice@example.com --profile integration`
	f := cmd.Flags()
	if nargs == 0 {
		f.StringVar(&id, "id", "", "user ID (generated when empty)")
	}
	f.StringVar(&username, "username", "", "username (unique in the workspace)")
	f.StringVar(&email, "email", "", "email (unique in the workspace, case-insensitive)")
	f.StringVar(&display, "display-name", "", "display name")
	f.StringVar(&external, "external-id", "", "external ID")
	f.BoolVar(&active, "active", true, "active (inactive users get no tokens)")
	f.BoolVar(&service, "service-user", false, "service user (cannot sign in interactively)")
	f.StringArrayVar(&profiles, "profile", nil, "profile ID (repeat; replaces the list)")
	f.StringArrayVar(&attrs, "attribute", nil, "custom attribute key=value (repeat; replaces the map)")
	return cmd
}

func userTable(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.Page[adminclient.User]](raw)
	if err != nil {
		return err
	}
	row(w, "ID", "USERNAME", "EMAIL", "ACTIVE", "SERVICE", "PROFILES")
	for _, u := range p.Items {
		row(w, u.ID, u.Username, dash(u.Email), fmt.Sprint(u.Active), fmt.Sprint(u.ServiceUser), join(u.Profiles))
	}
	nextPage(w, p.NextPageToken)
	return nil
}

func userDetail(w io.Writer, raw []byte) error {
	u, err := decode[adminclient.User](raw)
	if err != nil {
		return err
	}
	attrs := make([]string, 0, len(u.Attributes))
	for k, v := range u.Attributes {
		attrs = append(attrs, k+"="+v)
	}
	kv(w, "ID", u.ID, "Username", u.Username, "Email", dash(u.Email), "Display name", dash(u.DisplayName),
		"External ID", dash(u.ExternalID), "Active", fmt.Sprint(u.Active), "Service user", fmt.Sprint(u.ServiceUser),
		"Profiles", join(u.Profiles), "Attributes", join(attrs), "Created", fmtTime(&u.CreatedAt))
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// --- profiles

func profilesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "profiles", Aliases: []string{"profile"}, Short: "Manage profiles (named groups of users)"}
	var id, name, desc string
	create := simpleCmd(g, "create", "Create a profile", 0, "POST", fixed("/profiles"), func(*cobra.Command) (any, error) {
		body := adminclient.ProfileRequest{Name: &name, Description: &desc}
		if id != "" {
			body.ID = &id
		}
		return body, nil
	}, profileDetail)
	create.Flags().StringVar(&id, "id", "", "profile ID (generated when empty)")
	create.Flags().StringVar(&name, "name", "", "name (unique in the workspace)")
	create.Flags().StringVar(&desc, "description", "", "description")
	cmd.AddCommand(
		listCmd(g, "List profiles", "/profiles", profileTable),
		simpleCmd(g, "get ID", "Show a profile", 1, "GET", withID("/profiles"), nil, profileDetail),
		create,
		profileUpdateCmd(g),
		simpleCmd(g, "delete ID", "deleted profile", 1, "DELETE", withID("/profiles"), nil, nil),
	)
	return cmd
}

func profileTable(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.Page[adminclient.Profile]](raw)
	if err != nil {
		return err
	}
	row(w, "ID", "NAME", "DESCRIPTION")
	for _, pr := range p.Items {
		row(w, pr.ID, pr.Name, dash(pr.Description))
	}
	nextPage(w, p.NextPageToken)
	return nil
}

func profileDetail(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.Profile](raw)
	if err != nil {
		return err
	}
	kv(w, "ID", p.ID, "Name", p.Name, "Description", dash(p.Description))
	return nil
}

// --- certificates

func certificatesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "certificates", Aliases: []string{"certificate", "certs", "cert"},
		Short: "Manage a client's X.509 certificates (JWT bearer assertion keys)"}
	var file, kid string
	upload := simpleCmd(g, "upload CLIENT_ID", "Upload a certificate (PEM, CRT or DER)", 1, "POST",
		func(args []string) string { return "/clients/" + seg(args[0]) + "/certificates" },
		func(*cobra.Command) (any, error) {
			data, err := os.ReadFile(file)
			if err != nil {
				return nil, err
			}
			cert := string(data)
			if !strings.Contains(cert, "-----BEGIN") {
				cert = base64.StdEncoding.EncodeToString(data) // DER
			}
			return adminclient.CertificateUpload{Certificate: cert, KID: kid}, nil
		}, certDetail)
	upload.Example = `  latchkey admin certificates upload servicenow-app --file certificate.pem --kid sn-verifier-1`
	upload.Flags().StringVarP(&file, "file", "f", "", "certificate file (.pem, .crt, .cer, .der)")
	upload.Flags().StringVar(&kid, "kid", "", "key ID (default: the x5t#S256 thumbprint)")
	_ = upload.MarkFlagRequired("file")
	cmd.AddCommand(
		simpleCmd(g, "list CLIENT_ID", "List a client's certificates", 1, "GET",
			func(args []string) string { return "/clients/" + seg(args[0]) + "/certificates" }, nil, certTable),
		upload,
		simpleCmd(g, "remove CLIENT_ID KID", "removed certificate", 2, "DELETE",
			func(args []string) string { return "/clients/" + seg(args[0]) + "/certificates/" + seg(args[1]) }, nil, nil),
	)
	return cmd
}

func certTable(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.List[adminclient.Certificate]](raw)
	if err != nil {
		return err
	}
	row(w, "KID", "SUBJECT", "KEY", "NOT AFTER", "WARNING")
	for _, c := range p.Items {
		row(w, c.KID, c.Subject, c.KeyType, fmtTime(&c.NotAfter), dash(c.Warning))
	}
	return nil
}

func certDetail(w io.Writer, raw []byte) error {
	c, err := decode[adminclient.Certificate](raw)
	if err != nil {
		return err
	}
	kv(w, "KID", c.KID, "Subject", c.Subject, "Issuer", c.Issuer, "Serial", c.Serial, "Key", c.KeyType,
		"Not before", fmtTime(&c.NotBefore), "Not after", fmtTime(&c.NotAfter), "x5t#S256", c.ThumbprintS256, "Warning", dash(c.Warning))
	return nil
}
