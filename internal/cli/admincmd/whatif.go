package admincmd

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// policyTestCmd is the what-if tool: what the token endpoint would decide
// now for a client (alone, or on behalf of a user), rule by rule, and the
// claims it would issue. Nothing is issued.
func policyTestCmd(g *globals) *cobra.Command {
	var in adminclient.WhatIfRequest
	cmd := simpleCmd(g, "test", "Show what the policies decide for a request, rule by rule, and the claims it would get", 0, "POST",
		func([]string) string { return "/policies/what-if" },
		func(*cobra.Command) (any, error) {
			if in.ClientID == "" {
				return nil, fmt.Errorf("--client is required")
			}
			return in, nil
		}, whatIfReport)
	cmd.Example = `  latchkey admin policies test --client billing --scope orders:read --ip 203.0.113.7
  latchkey admin policies test --client portal --user u-ada --scope "openid orders:read"`
	f := cmd.Flags()
	f.StringVar(&in.ClientID, "client", "", "client ID (required)")
	f.StringVar(&in.UserID, "user", "", "user ID; without it the client asks for itself (client_credentials)")
	f.StringVar(&in.GrantType, "grant-type", "", "grant type (default authorization_code with --user, client_credentials without)")
	f.StringSliceVar(&in.Scopes, "scope", nil, "requested scopes (repeat, or space-separated)")
	f.StringSliceVar(&in.Resources, "resource", nil, "requested resource indicators (RFC 8707; repeatable)")
	f.StringVar(&in.RemoteIP, "ip", "", "the caller's IP address (default: none)")
	cmd.PreRunE = func(*cobra.Command, []string) error {
		in.Scopes = splitFields(in.Scopes)
		return nil
	}
	return cmd
}

// splitFields accepts "a b" as well as repeated flags.
func splitFields(values []string) []string {
	var out []string
	for _, v := range values {
		out = append(out, strings.Fields(v)...)
	}
	return out
}

func whatIfReport(w io.Writer, raw []byte) error {
	res, err := decode[adminclient.WhatIfResult](raw)
	if err != nil {
		return err
	}
	decision := "ALLOWED"
	if !res.Allowed {
		decision = "DENIED: " + res.Error + ": " + res.ErrorDescription
	}
	kv(w, "Grant type", res.GrantType, "Decision", decision)
	for _, p := range res.Policies {
		verdict := "allow"
		if !p.Allow {
			verdict = "deny"
		}
		if p.Kind == "pre_authorization" {
			// No saved policy: the client's JWT bearer settings as a template.
			fmt.Fprintf(w, "\n%s (%s template, %s): %s\n", p.Name, p.Template, templateParams(p.Params), verdict)
		} else {
			fmt.Fprintf(w, "\nPolicy %s (%s, %s policy, version %d): %s\n", p.PolicyID, p.Name, p.Kind, p.Version, verdict)
		}
		row(w, "RULE", "RESULT", "OUTCOME", "CONDITION", "MESSAGE")
		for i, r := range p.Rules {
			result := r.Result
			if r.Error != "" {
				result += " (" + r.Error + ")"
			}
			row(w, strconv.Itoa(i), result, r.Outcome, r.Condition, dash(r.Message))
		}
	}
	for _, t := range []struct {
		name   string
		claims map[string]any
	}{{"Access token claims", res.AccessToken}, {"ID token claims", res.IDToken}} {
		if len(t.claims) == 0 {
			continue
		}
		b, err := json.MarshalIndent(t.claims, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\n%s:\n%s\n", t.name, b)
	}
	return nil
}

// templateParams lists a template's parameters as name=value, in name
// order ("no parameters" when there are none: nobody is approved).
func templateParams(params map[string]string) string {
	if len(params) == 0 {
		return "no parameters"
	}
	names := slices.Sorted(maps.Keys(params))
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + "=" + params[n]
	}
	return strings.Join(out, " ")
}
