package admincmd

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/latchkey/latchkey/adminclient"
)

// --- claim mappings of clients and services (clients|services claims get|set)

// claimsCmd is "claims get|set" under clients or services (kind), on
// the route /{kind}s/{id}/claims.
func claimsCmd(g *globals, kind string) *cobra.Command {
	cmd := &cobra.Command{Use: "claims", Short: "Show or replace a " + kind + "'s claim mappings (extra claims computed by CEL)"}
	path := func(args []string) string { return "/" + kind + "s/" + seg(args[0]) + "/claims" }
	arg := strings.ToUpper(kind) + "_ID"
	cmd.AddCommand(
		simpleCmd(g, "get "+arg, "Show a "+kind+"'s claim mappings", 1, "GET", path, nil, claimsTable),
		claimsSetCmd(g, kind, arg, path),
	)
	return cmd
}

func claimsSetCmd(g *globals, kind, arg string, path func([]string) string) *cobra.Command {
	var claims, targets []string
	var file string
	var clear bool
	cmd := simpleCmd(g, "set "+arg, "Replace a "+kind+"'s claim mappings (type-checked when saved)", 1, "PUT", path,
		func(*cobra.Command) (any, error) { return claimsBody(claims, targets, file, clear) }, claimsTable)
	cmd.Example = `  latchkey admin ` + kind + `s claims set ID --claim 'cmicuser=workspace.id + "||" + user.username' --target access_token
  latchkey admin ` + kind + `s claims set ID --file claims.yaml
  latchkey admin ` + kind + `s claims set ID --clear`
	f := cmd.Flags()
	f.StringArrayVar(&claims, "claim", nil, "claim as NAME=CEL expression (repeat)")
	f.StringArrayVar(&targets, "target", nil, "where the --claim claims go: access_token, id_token, userinfo, introspection (repeat; default access_token)")
	f.StringVar(&file, "file", "", "YAML or JSON file holding the list of claims {name, expression, targets}")
	f.BoolVar(&clear, "clear", false, "remove every claim mapping")
	return cmd
}

// claimsBody builds the new list from exactly one of --claim, --file and
// --clear.
func claimsBody(claims, targets []string, file string, clear bool) (adminclient.ClaimMappings, error) {
	given := 0
	for _, b := range []bool{len(claims) > 0, file != "", clear} {
		if b {
			given++
		}
	}
	if given != 1 {
		return adminclient.ClaimMappings{}, fmt.Errorf("give --claim (with --target), --file or --clear, exactly one of them")
	}
	out := adminclient.ClaimMappings{Claims: []adminclient.ClaimMapping{}}
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return out, fmt.Errorf("read --file: %w", err)
		}
		if err := yaml.Unmarshal(b, &out.Claims); err != nil {
			return out, fmt.Errorf("--file %s: want a list of claims {name, expression, targets}: %w", file, err)
		}
	case len(claims) > 0:
		if len(targets) == 0 {
			targets = []string{"access_token"}
		}
		for _, c := range claims {
			name, expr, ok := strings.Cut(c, "=")
			if !ok || strings.TrimSpace(name) == "" {
				return out, fmt.Errorf("--claim %q: want NAME=CEL expression", c)
			}
			out.Claims = append(out.Claims, adminclient.ClaimMapping{Name: strings.TrimSpace(name), Expression: expr, Targets: targets})
		}
	}
	return out, nil
}

func claimsTable(w io.Writer, raw []byte) error {
	m, err := decode[adminclient.ClaimMappings](raw)
	if err != nil {
		return err
	}
	row(w, "CLAIM", "TARGETS", "EXPRESSION")
	for _, c := range m.Claims {
		row(w, c.Name, strings.Join(c.Targets, ","), c.Expression)
	}
	return nil
}
