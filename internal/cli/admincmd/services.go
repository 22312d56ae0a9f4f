package admincmd

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

func servicesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "services", Aliases: []string{"service", "svc"}, Short: "Manage services (resource servers) and scopes"}
	var lf listFlags
	list := &cobra.Command{Use: "list", Short: "List services", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := g.do(cmd.Context(), "GET", g.wsPath()+"/services", lf.values(), nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, serviceTable)
		}}
	lf.add(list)
	get := &cobra.Command{Use: "get ID", Short: "Show a service and its scopes", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := g.do(cmd.Context(), "GET", g.wsPath()+"/services/"+seg(args[0]), nil, nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, serviceDetail)
		}}
	del := &cobra.Command{Use: "delete ID", Short: "Delete a service and its scopes", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := g.do(cmd.Context(), "DELETE", g.wsPath()+"/services/"+seg(args[0]), nil, nil); err != nil {
				return err
			}
			return g.printDone(cmd, "deleted service "+args[0])
		}}
	cmd.AddCommand(list, get, serviceCreateCmd(g), del, serviceUpdateCmd(g), claimsCmd(g, "service"))
	return cmd
}

func serviceCreateCmd(g *globals) *cobra.Command {
	var id, name, desc, identifier string
	var scopes, detailTypes []string
	cmd := &cobra.Command{Use: "create", Short: "Create a service", Args: cobra.NoArgs,
		Example: `  latchkey admin services create --name "Orders API" --identifier https://orders.example \
    --scope orders:read="Read orders" --scope orders:write="Create orders"`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pairs, err := parseScopes(scopes)
			if err != nil {
				return err
			}
			body := adminclient.ServiceRequest{Name: &name, Description: &desc, Identifier: &identifier, Scopes: &pairs}
			if id != "" {
				body.ID = &id
			}
			if len(detailTypes) > 0 {
				types, err := readDetailTypes(detailTypes)
				if err != nil {
					return err
				}
				body.AuthorizationDetailTypes = &types
			}
			raw, err := g.do(cmd.Context(), "POST", g.wsPath()+"/services", nil, body)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, serviceDetail)
		}}
	f := cmd.Flags()
	f.StringVar(&id, "id", "", "service ID (generated when empty)")
	f.StringVar(&name, "name", "", "display name")
	f.StringVar(&desc, "description", "", "description")
	f.StringVar(&identifier, "identifier", "", "audience of tokens for this service, e.g. https://api.example")
	f.StringArrayVar(&scopes, "scope", nil, "scope as name=description (repeat)")
	addDetailTypeFlag(cmd, &detailTypes)
	return cmd
}

// parseScopes reads --scope name=description; the description is optional.
func parseScopes(list []string) ([]adminclient.Scope, error) {
	out := make([]adminclient.Scope, 0, len(list))
	for _, s := range list {
		name, desc, _ := strings.Cut(s, "=")
		if name == "" {
			return nil, fmt.Errorf("--scope must be name=description, got %q", s)
		}
		out = append(out, adminclient.Scope{Name: name, Description: desc})
	}
	return out, nil
}

func serviceTable(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.Page[adminclient.Service]](raw)
	if err != nil {
		return err
	}
	row(w, "ID", "NAME", "IDENTIFIER", "SCOPES")
	for _, s := range p.Items {
		names := make([]string, len(s.Scopes))
		for i, sc := range s.Scopes {
			names[i] = sc.Name
		}
		sort.Strings(names)
		row(w, s.ID, s.Name, s.Identifier, join(names))
	}
	nextPage(w, p.NextPageToken)
	return nil
}

func serviceDetail(w io.Writer, raw []byte) error {
	s, err := decode[adminclient.Service](raw)
	if err != nil {
		return err
	}
	kv(w, "ID", s.ID, "Name", s.Name, "Description", s.Description, "Identifier", s.Identifier)
	row(w, "")
	row(w, "SCOPE", "DESCRIPTION")
	for _, sc := range s.Scopes {
		row(w, sc.Name, sc.Description)
	}
	if len(s.AuthorizationDetailTypes) > 0 { // RFC 9396
		row(w, "")
		row(w, "AUTHORIZATION DETAILS TYPE", "DESCRIPTION")
		for _, t := range s.AuthorizationDetailTypes {
			row(w, t.Type, t.Description)
		}
	}
	return nil
}
