package admincmd

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// anyIfEmpty shows an unrestricted policy list as "any".
func anyIfEmpty(l []string) string {
	if len(l) == 0 {
		return "any"
	}
	return join(l)
}

func iatCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "initial-access-tokens", Aliases: []string{"iat"},
		Short: "Manage initial access tokens for dynamic client registration (RFC 7591)"}
	list := &cobra.Command{Use: "list", Short: "List initial access tokens", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := g.do(cmd.Context(), "GET", g.wsPath()+"/initial-access-tokens", nil, nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, iatTable)
		}}
	var desc string
	var expires time.Duration
	var uses int
	var policy adminclient.RegistrationPolicy
	create := &cobra.Command{Use: "create", Short: "Create an initial access token (printed once)", Args: cobra.NoArgs,
		Long: `Create an initial access token for dynamic client registration (RFC 7591).

The token carries a registration policy. Without policy flags it allows the
client_credentials and authorization_code grants (with refresh_token) and no
grant that issues tokens for users. Repeat --grant-type, --scope,
--auth-method, --application-type and --redirect-uri-pattern to allow more
than one value; an omitted list (other than grant types) is not restricted.

A redirect URI pattern is an absolute URL without query or fragment. A
redirect URI matches when scheme and host (with port) are equal and its path
equals the pattern's path, or begins with it when the pattern's path ends
with "/". There are no wildcards.

The JWT bearer grant lets a client obtain tokens for users; a token may allow
it only with --allow-impersonation.`,
		Example: `  latchkey admin initial-access-tokens create --description "partner onboarding" \
    --grant-type authorization_code --grant-type refresh_token --scope orders:read \
    --application-type web --redirect-uri-pattern https://partner.example.com/oauth/ --max-uses 5`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body := adminclient.InitialAccessTokenRequest{Description: desc, ExpiresIn: durationSeconds(expires), MaxUses: uses, Policy: &policy}
			raw, err := g.do(cmd.Context(), "POST", g.wsPath()+"/initial-access-tokens", nil, body)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, iatDetail)
		}}
	create.Flags().StringVar(&desc, "description", "", "what the token is for")
	create.Flags().DurationVar(&expires, "expires-in", 24*time.Hour, "lifetime (0 = never expires)")
	create.Flags().IntVar(&uses, "max-uses", 1, "number of registrations allowed (0 = unlimited)")
	create.Flags().StringArrayVar(&policy.GrantTypes, "grant-type", nil,
		"grant type registrations may ask for (repeat; default client_credentials, authorization_code, refresh_token)")
	create.Flags().StringArrayVar(&policy.Scopes, "scope", nil, "scope registrations may ask for (repeat; default any)")
	create.Flags().StringArrayVar(&policy.AuthMethods, "auth-method", nil, "token endpoint auth method allowed (repeat; default any)")
	create.Flags().StringArrayVar(&policy.ApplicationTypes, "application-type", nil, "web, native, spa or service (repeat; default any)")
	create.Flags().StringArrayVar(&policy.RedirectURIPatterns, "redirect-uri-pattern", nil,
		"allowed redirect URI prefix, e.g. https://app.example.com/cb/ (repeat; default any)")
	create.Flags().BoolVar(&policy.AllowImpersonation, "allow-impersonation", false,
		"allow grants that issue tokens for users (the JWT bearer grant)")
	del := &cobra.Command{Use: "delete ID", Short: "Revoke an initial access token", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := g.do(cmd.Context(), "DELETE", g.wsPath()+"/initial-access-tokens/"+seg(args[0]), nil, nil); err != nil {
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
	p, err := decode[adminclient.List[adminclient.InitialAccessToken]](raw)
	if err != nil {
		return err
	}
	row(w, "ID", "DESCRIPTION", "USES LEFT", "EXPIRES", "GRANT TYPES", "IMPERSONATION", "CREATED")
	for _, t := range p.Items {
		row(w, t.ID, t.Description, usesLeft(t.UsesLeft), fmtTime(t.ExpiresAt), join(t.Policy.GrantTypes),
			fmt.Sprint(t.Policy.AllowImpersonation), fmtTime(&t.CreatedAt))
	}
	return nil
}

func iatDetail(w io.Writer, raw []byte) error {
	t, err := decode[adminclient.InitialAccessToken](raw)
	if err != nil {
		return err
	}
	kv(w, "ID", t.ID, "Description", t.Description, "Uses left", usesLeft(t.UsesLeft), "Expires", fmtTime(t.ExpiresAt),
		"Grant types", join(t.Policy.GrantTypes), "Scopes", anyIfEmpty(t.Policy.Scopes),
		"Auth methods", anyIfEmpty(t.Policy.AuthMethods), "Application types", anyIfEmpty(t.Policy.ApplicationTypes),
		"Redirect URIs", anyIfEmpty(t.Policy.RedirectURIPatterns), "Impersonation", fmt.Sprint(t.Policy.AllowImpersonation),
		"Token", t.Token)
	row(w, "")
	row(w, "Store the token now: it is shown only once.")
	return nil
}
