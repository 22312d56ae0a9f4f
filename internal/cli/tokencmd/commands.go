package tokencmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/latchkey/latchkey/internal/oauthclient"
)

// NewCommand returns "latchkey token".
func NewCommand() *cobra.Command { return newCommand(defaultEnv()) }

func newCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Get OAuth 2.0 tokens from any authorization server",
		Long: "Get access tokens from any standards-compliant OAuth 2.0 / OpenID Connect server with the\n" +
			"client_credentials, JWT bearer (RFC 7523), authorization code (PKCE) and refresh grants,\n" +
			"directly or through named connections with a token cache.",
	}
	cmd.AddCommand(e.connectionsCommand(), e.getCommand(), e.clientCredentialsCommand(), e.jwtCommand(), e.codeCommand(), e.refreshCommand())
	cmd.AddCommand(e.deviceCommand())
	return cmd
}

func (e *env) configPath() (string, error) { return configPath(e.getenv) }

func (e *env) loadConfig() (string, *configFile, error) {
	p, err := e.configPath()
	if err != nil {
		return "", nil, err
	}
	cf, err := loadConfig(p)
	return p, cf, err
}

// run reports protocol errors with their hint.
func (e *env) run(err error) error {
	var oe *oauthclient.Error
	if errors.As(err, &oe) {
		if h := oe.Hint(); h != "" {
			return fmt.Errorf("%w\nhint: %s", err, h)
		}
	}
	return err
}

func (e *env) getCommand() *cobra.Command {
	var output string
	var force bool
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Print a valid access token of a connection (cached, refreshed or obtained)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, cf, err := e.loadConfig()
			if err != nil {
				return err
			}
			c, err := cf.get(args[0])
			if err != nil {
				return err
			}
			t, err := e.getToken(cmd.Context(), p, args[0], c, force)
			if err != nil {
				return e.run(err)
			}
			return e.outputToken(t, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text (the access token only) or json (the whole response)")
	cmd.Flags().BoolVar(&force, "force", false, "ignore the cached token and obtain a new one")
	return cmd
}

// explicit builds a command that runs one flow from flags, without cache.
func (e *env) explicit(use, short, flow string, extra func(*cobra.Command, *Connection, *[]string)) *cobra.Command {
	var c Connection
	var output string
	var claims []string
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c.Flow = flow
			if err := finishConnection(&c, claims, true); err != nil {
				return err
			}
			t, err := e.obtain(cmd.Context(), c)
			if err != nil {
				return e.run(err)
			}
			return e.outputToken(t, output)
		},
	}
	serverFlags(cmd.Flags(), &c)
	keyFlags(cmd.Flags(), &c)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text (the access token only) or json (the whole response)")
	extra(cmd, &c, &claims)
	return cmd
}

func (e *env) clientCredentialsCommand() *cobra.Command {
	return e.explicit("client-credentials", "Run the client_credentials grant (RFC 6749 §4.4)", FlowClientCredentials,
		func(cmd *cobra.Command, c *Connection, _ *[]string) {
			cmd.Flags().StringVar(&c.Audience, "audience", "", "audience request parameter (Auth0/Okta style)")
		})
}

func (e *env) jwtCommand() *cobra.Command {
	return e.explicit("jwt", "Run the JWT bearer grant (RFC 7523 §2.1) with a signed assertion", FlowJWT,
		func(cmd *cobra.Command, c *Connection, claims *[]string) { jwtFlags(cmd.Flags(), c, "", claims) })
}

func (e *env) codeCommand() *cobra.Command {
	return e.explicit("code", "Run the authorization code flow with PKCE in the browser", FlowCode,
		func(cmd *cobra.Command, c *Connection, _ *[]string) {
			codeFlags(cmd.Flags(), c)
			cmd.Flags().StringVar(&c.Audience, "audience", "", "audience request parameter (Auth0/Okta style)")
		})
}

func (e *env) refreshCommand() *cobra.Command {
	var c Connection
	var output, refreshRef string
	cmd := &cobra.Command{
		Use:   "refresh [NAME]",
		Short: "Redeem a refresh token: a connection's cached one, or --refresh-token",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := e.refresh(cmd.Context(), args, c, refreshRef)
			if err != nil {
				return e.run(err)
			}
			return e.outputToken(t, output)
		},
	}
	serverFlags(cmd.Flags(), &c)
	keyFlags(cmd.Flags(), &c)
	cmd.Flags().StringVar(&refreshRef, "refresh-token", "", "refresh token reference: env:NAME, file:PATH or prompt")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text (the access token only) or json (the whole response)")
	return cmd
}

func (e *env) refresh(ctx context.Context, args []string, c Connection, ref string) (*oauthclient.Token, error) {
	if len(args) == 0 {
		rt, err := e.resolveSecret(ref, "refresh token")
		if err != nil || rt == "" {
			return nil, errors.Join(errors.New("give a connection NAME or --refresh-token"), err)
		}
		return e.refreshWith(ctx, c, rt)
	}
	p, cf, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	if c, err = cf.get(args[0]); err != nil {
		return nil, err
	}
	ce := readCache(cachePath(p, args[0]), c.fingerprint())
	if ce == nil || ce.RefreshToken == "" {
		return nil, fmt.Errorf("connection %q has no cached refresh token (run: latchkey token get %s)", args[0], args[0])
	}
	t, err := e.refreshWith(ctx, c, ce.RefreshToken)
	if err != nil {
		return nil, err
	}
	return t, writeCache(cachePath(p, args[0]), c.fingerprint(), t)
}

func (e *env) refreshWith(ctx context.Context, c Connection, rt string) (*oauthclient.Token, error) {
	key, err := e.loadKey(c)
	if err != nil {
		return nil, err
	}
	cl, err := e.client(c, key)
	if err != nil {
		return nil, err
	}
	return cl.Refresh(ctx, rt, c.params())
}

// finishConnection validates references and folds --claim pairs in.
func finishConnection(c *Connection, claims []string, allowLiteral bool) error {
	for _, ref := range []*string{&c.ClientSecret, &c.StorePassword, &c.KeyPassword} {
		v, err := checkRef(*ref, false)
		if err != nil && !(allowLiteral && strings.HasPrefix(*ref, refLiteral)) {
			return err
		}
		if err == nil {
			*ref = v
		}
	}
	if _, err := oauthclient.ParseAuthMethod(c.AuthMethod); err != nil {
		return err
	}
	if c.Issuer == "" && c.TokenEndpoint == "" {
		return errors.New("give --server (discovery) or --token-endpoint")
	}
	return addClaims(c, claims)
}

func addClaims(c *Connection, claims []string) error {
	for _, kv := range claims {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("--claim %q: want name=value", kv)
		}
		if c.JWTClaims == nil {
			c.JWTClaims = map[string]string{}
		}
		c.JWTClaims[k] = v
	}
	return nil
}

func (e *env) connectionsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "connections", Short: "Manage named connections (" + ConfigEnv + " overrides the file)"}
	cmd.AddCommand(e.addCommand(), e.listCommand(), e.showCommand(), e.removeCommand())
	return cmd
}

func (e *env) addCommand() *cobra.Command {
	var c Connection
	var claims []string
	var storeSecret, replace bool
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Add (or with --replace, replace) a connection",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.add(args[0], c, claims, storeSecret, replace)
		},
	}
	fs := cmd.Flags()
	serverFlags(fs, &c)
	keyFlags(fs, &c)
	codeFlags(fs, &c)
	jwtFlags(fs, &c, "jwt-", &claims)
	fs.StringVar(&c.Flow, "flow", FlowClientCredentials, "client_credentials, jwt or code")
	fs.StringVar(&c.Audience, "audience", "", "audience request parameter (Auth0/Okta style)")
	fs.BoolVar(&storeSecret, "store-secret", false, "allow storing --client-secret/--storepass/--keypass values in clear in the config file")
	fs.BoolVar(&replace, "replace", false, "replace an existing connection of that name")
	return cmd
}

func (e *env) add(name string, c Connection, claims []string, storeSecret, replace bool) error {
	if err := checkName(name); err != nil {
		return err
	}
	for _, ref := range []*string{&c.ClientSecret, &c.StorePassword, &c.KeyPassword} {
		v, err := checkRef(*ref, storeSecret)
		if err != nil {
			return err
		}
		*ref = v
	}
	if err := finishConnection(&c, claims, true); err != nil {
		return err
	}
	if c.Flow != FlowClientCredentials && c.Flow != FlowJWT && c.Flow != FlowCode {
		return fmt.Errorf("--flow %q: choose client_credentials, jwt or code", c.Flow)
	}
	p, cf, err := e.loadConfig()
	if err != nil {
		return err
	}
	if _, exists := cf.Connections[name]; exists && !replace {
		return fmt.Errorf("connection %q exists (use --replace)", name)
	}
	cf.Connections[name] = c
	if err := cf.save(p); err != nil {
		return err
	}
	_ = os.Remove(cachePath(p, name))
	_, err = fmt.Fprintf(e.stdout, "connection %q saved in %s\n", name, p)
	return err
}

func (e *env) listCommand() *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List connections", Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			_, cf, err := e.loadConfig()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tFLOW\tSERVER\tCLIENT ID\tAUTH METHOD")
			for _, n := range cf.names() {
				c := cf.Connections[n]
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n, c.Flow, firstNonEmpty(c.Issuer, c.TokenEndpoint), listedClient(c), c.AuthMethod)
			}
			return tw.Flush()
		},
	}
}

// listedClient is the client a connection acts as. A JWT-flow connection
// often has no client id (RFC 7523 §2.1 needs no client authentication):
// the server then knows the client by the assertion's iss, so that is
// shown, marked as such.
func listedClient(c Connection) string {
	if c.ClientID != "" || c.Flow != FlowJWT || c.JWTIssuer == "" {
		return c.ClientID
	}
	return c.JWTIssuer + " (assertion iss)"
}

func (e *env) showCommand() *cobra.Command {
	return &cobra.Command{
		Use: "show NAME", Short: "Show a connection (inline secrets masked)", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			_, cf, err := e.loadConfig()
			if err != nil {
				return err
			}
			c, err := cf.get(args[0])
			if err != nil {
				return err
			}
			c.ClientSecret, c.StorePassword, c.KeyPassword = redactRef(c.ClientSecret), redactRef(c.StorePassword), redactRef(c.KeyPassword)
			enc := yaml.NewEncoder(e.stdout)
			defer enc.Close()
			return enc.Encode(map[string]Connection{args[0]: c})
		},
	}
}

func (e *env) removeCommand() *cobra.Command {
	return &cobra.Command{
		Use: "remove NAME", Short: "Remove a connection and its cached token", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			p, cf, err := e.loadConfig()
			if err != nil {
				return err
			}
			if _, err := cf.get(args[0]); err != nil {
				return err
			}
			delete(cf.Connections, args[0])
			if err := cf.save(p); err != nil {
				return err
			}
			if err := os.Remove(cachePath(p, args[0])); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "connection %q removed\n", args[0])
			return err
		},
	}
}
