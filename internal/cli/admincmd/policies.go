package admincmd

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/latchkey/latchkey/adminclient"
)

// --- policies

func policiesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "policies", Aliases: []string{"policy"}, Short: "Manage CEL policies (user and machine token policies)"}
	cmd.AddCommand(
		listCmd(g, "List policies", "/policies", policyTable),
		simpleCmd(g, "get ID", "Show a policy with its rules", 1, "GET", withID("/policies"), nil, policyDetail),
		policyWriteCmd(g, true),
		policyWriteCmd(g, false),
		simpleCmd(g, "delete ID", "deleted policy", 1, "DELETE", withID("/policies"), nil, nil),
		simpleCmd(g, "versions ID", "List a policy's saved versions", 1, "GET",
			func(args []string) string { return "/policies/" + seg(args[0]) + "/versions" }, nil, policyVersionsTable),
		policyRollbackCmd(g),
		policyTemplatesCmd(g),
		policyDefaultCmd(g),
		policyTestCmd(g),
	)
	return cmd
}

func policyWriteCmd(g *globals, create bool) *cobra.Command {
	var id, name, desc, kind, template, file string
	var params []string
	cmd := &cobra.Command{Use: "update ID", Short: "Change a policy (saved as a new version; only the flags given)", Args: cobra.ExactArgs(1)}
	if create {
		cmd.Use, cmd.Short, cmd.Args = "create", "Create a policy from --template or --file", cobra.NoArgs
		cmd.Example = `  latchkey admin policies create --id corp --name "Corp staff" --kind user --template email-domain --param domain=example.com
  latchkey admin policies create --id office --name Office --kind machine --file rules.yaml`
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		body := adminclient.PolicyRequest{
			Name: ifChanged(cmd, "name", name), Description: ifChanged(cmd, "description", desc),
			Kind: ifChanged(cmd, "kind", kind), Template: ifChanged(cmd, "template", template),
		}
		if create {
			body.ID, body.Kind = ifChanged(cmd, "id", id), &kind
		}
		if len(params) > 0 {
			p, err := parsePairs("param", params)
			if err != nil {
				return err
			}
			body.Params = p
		}
		if file != "" {
			rules, err := readRulesFile(file)
			if err != nil {
				return err
			}
			body.Rules = &rules
		}
		method, path := "POST", g.wsPath()+"/policies"
		if !create {
			method, path = "PATCH", path+"/"+seg(args[0])
		}
		raw, err := g.do(cmd.Context(), method, path, nil, body)
		if err != nil {
			return err
		}
		return g.print(cmd, raw, policyDetail)
	}
	f := cmd.Flags()
	if create {
		f.StringVar(&id, "id", "", "policy ID (generated when empty)")
		f.StringVar(&kind, "kind", "user", "user (authorization, JWT bearer, refresh), machine (client_credentials) or access (a service's scopes)")
	}
	f.StringVar(&name, "name", "", "name")
	f.StringVar(&desc, "description", "", "description")
	f.StringVar(&template, "template", "", "built-in template that builds the rules (see: policies templates)")
	f.StringArrayVar(&params, "param", nil, "template parameter as name=value (repeat; lists are comma-separated)")
	f.StringVar(&file, "file", "", "YAML or JSON file holding the list of rules {condition, outcome, message}")
	return cmd
}

// readRulesFile reads a list of rules from YAML (JSON is YAML too).
func readRulesFile(path string) ([]adminclient.PolicyRule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read --file: %w", err)
	}
	var rules []adminclient.PolicyRule
	if err := yaml.Unmarshal(b, &rules); err != nil {
		return nil, fmt.Errorf("--file %s: want a list of rules {condition, outcome, message}: %w", path, err)
	}
	return rules, nil
}

func policyRollbackCmd(g *globals) *cobra.Command {
	var version int
	cmd := simpleCmd(g, "rollback ID", "Save an earlier version's rules as the next version", 1, "POST",
		func(args []string) string { return "/policies/" + seg(args[0]) + "/rollback" },
		func(*cobra.Command) (any, error) { return adminclient.PolicyRollback{Version: version}, nil }, policyDetail)
	cmd.Flags().IntVar(&version, "version", 0, "the version to restore")
	_ = cmd.MarkFlagRequired("version")
	return cmd
}

func policyTemplatesCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "templates", Short: "List the built-in policy templates", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := g.do(cmd.Context(), "GET", "/policy-templates", nil, nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, policyTemplatesTable)
		}}
}

func policyDefaultCmd(g *globals) *cobra.Command {
	var clear bool
	cmd := &cobra.Command{Use: "default [ID]", Short: "Show or set the workspace's default user policy (--clear removes it)",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			method, body := "GET", any(nil)
			switch {
			case len(args) == 1 && clear:
				return fmt.Errorf("give a policy ID or --clear, not both")
			case len(args) == 1:
				method, body = "PUT", adminclient.PolicyRef{PolicyID: args[0]}
			case clear:
				method, body = "PUT", adminclient.PolicyRef{}
			}
			raw, err := g.do(cmd.Context(), method, g.wsPath()+"/default-user-policy", nil, body)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, func(w io.Writer, raw []byte) error {
				d, err := decode[adminclient.PolicyRef](raw)
				if err == nil {
					kv(w, "Default user policy", dash(d.PolicyID))
				}
				return err
			})
		}}
	cmd.Flags().BoolVar(&clear, "clear", false, "remove the default user policy")
	return cmd
}

func policyTable(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.Page[adminclient.Policy]](raw)
	if err != nil {
		return err
	}
	row(w, "ID", "NAME", "KIND", "VERSION", "RULES")
	for _, po := range p.Items {
		row(w, po.ID, po.Name, po.Kind, strconv.Itoa(po.Version), strconv.Itoa(len(po.Rules)))
	}
	nextPage(w, p.NextPageToken)
	return nil
}

func policyDetail(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.Policy](raw)
	if err != nil {
		return err
	}
	kv(w, "ID", p.ID, "Name", p.Name, "Description", dash(p.Description), "Kind", p.Kind,
		"Version", strconv.Itoa(p.Version), "Saved", fmtTime(&p.UpdatedAt))
	for i, r := range p.Rules {
		row(w, fmt.Sprintf("Rule %d:", i), r.Outcome+" if "+r.Condition, dash(r.Message))
	}
	return nil
}

func policyVersionsTable(w io.Writer, raw []byte) error {
	l, err := decode[adminclient.List[adminclient.Policy]](raw)
	if err != nil {
		return err
	}
	row(w, "VERSION", "SAVED", "NAME", "RULES")
	for _, p := range l.Items {
		row(w, strconv.Itoa(p.Version), fmtTime(&p.UpdatedAt), p.Name, strconv.Itoa(len(p.Rules)))
	}
	return nil
}

func policyTemplatesTable(w io.Writer, raw []byte) error {
	l, err := decode[adminclient.List[adminclient.PolicyTemplate]](raw)
	if err != nil {
		return err
	}
	row(w, "TEMPLATE", "PARAMETERS", "DESCRIPTION")
	for _, t := range l.Items {
		names := make([]string, len(t.Params))
		for i, p := range t.Params {
			names[i] = "--param " + p.Name + "=..."
		}
		row(w, t.ID, dash(join(names)), t.Description)
	}
	return nil
}

// --- attachments on clients

// clientPolicyFlags are the --user-policy and --machine-policy flags of
// "clients update": they attach policies through PUT .../policies.
type clientPolicyFlags struct{ user, machine string }

func (pf *clientPolicyFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&pf.user, "user-policy", "", `user policy ID ("" detaches; the workspace default applies)`)
	cmd.Flags().StringVar(&pf.machine, "machine-policy", "", `machine token policy ID for client_credentials ("" detaches)`)
}

// apply attaches the policies given by flags, keeping the other one. It
// returns the answer, or nil when neither flag was given.
func (pf *clientPolicyFlags) apply(cmd *cobra.Command, g *globals, clientID string) ([]byte, error) {
	if !cmd.Flags().Changed("user-policy") && !cmd.Flags().Changed("machine-policy") {
		return nil, nil
	}
	path := g.wsPath() + "/clients/" + seg(clientID) + "/policies"
	raw, err := g.do(cmd.Context(), "GET", path, nil, nil)
	if err != nil {
		return nil, err
	}
	cur, err := decode[adminclient.ClientPolicies](raw)
	if err != nil {
		return nil, err
	}
	if cmd.Flags().Changed("user-policy") {
		cur.UserPolicyID = pf.user
	}
	if cmd.Flags().Changed("machine-policy") {
		cur.MachinePolicyID = pf.machine
	}
	return g.do(cmd.Context(), "PUT", path, nil, cur)
}

func clientPoliciesDetail(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.ClientPolicies](raw)
	if err != nil {
		return err
	}
	kv(w, "User policy", dash(p.UserPolicyID), "Machine policy", dash(p.MachinePolicyID))
	return nil
}

// emptyRequest reports whether a client update carries no field.
func emptyRequest(body adminclient.OAuthClientRequest) bool { return reflect.ValueOf(body).IsZero() }

// --- attachments on services

// serviceUpdateCmd changes a service: its fields (PATCH) and its access
// policy (its own endpoint), only the flags given.
func serviceUpdateCmd(g *globals) *cobra.Command {
	var policy string
	var sf serviceFields
	cmd := &cobra.Command{Use: "update ID", Short: "Change a service's name, identifier, scopes or access policy (only the flags given)", Args: cobra.ExactArgs(1),
		Example: `  latchkey admin services update orders --access-policy staff-only
  latchkey admin services update orders --name "Orders" --scope orders:read="Read orders"`,
		RunE: func(cmd *cobra.Command, args []string) error {
			patched, err := sf.apply(cmd, g, args[0])
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("access-policy") {
				if patched != nil {
					return g.print(cmd, patched, serviceDetail)
				}
				return fmt.Errorf("nothing to change: give --name, --description, --identifier, --scope or --access-policy (\"\" detaches)")
			}
			raw, err := g.do(cmd.Context(), "PUT", g.wsPath()+"/services/"+seg(args[0])+"/access-policy", nil,
				adminclient.PolicyRef{PolicyID: policy})
			if err != nil {
				return err
			}
			return g.print(cmd, raw, func(w io.Writer, raw []byte) error {
				p, err := decode[adminclient.PolicyRef](raw)
				if err == nil {
					kv(w, "Access policy", dash(p.PolicyID))
				}
				return err
			})
		}}
	cmd.Flags().StringVar(&policy, "access-policy", "", `access policy ID (kind access; "" detaches)`)
	sf.add(cmd)
	return cmd
}
