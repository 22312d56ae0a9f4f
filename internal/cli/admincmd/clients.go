package admincmd

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

func clientsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "clients", Aliases: []string{"client"}, Short: "Manage OAuth clients"}
	var lf listFlags
	list := &cobra.Command{Use: "list", Short: "List clients", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := g.do(cmd.Context(), "GET", g.wsPath()+"/clients", lf.values(), nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, clientTable)
		}}
	lf.add(list)
	cmd.AddCommand(list,
		clientActionCmd(g, "get", "Show a client (never its secret)", "GET", ""),
		clientWriteCmd(g, true), clientWriteCmd(g, false),
		clientActionCmd(g, "enable", "Enable a client", "POST", "/enable"),
		clientActionCmd(g, "disable", "Disable a client", "POST", "/disable"),
		clientActionCmd(g, "rotate-secret", "Issue a new client secret (the old one stops working)", "POST", "/secret"),
		clientDeleteCmd(g),
		claimsCmd(g, "client"))
	return cmd
}

// clientActionCmd is a command that calls one client route and prints the
// client it returns.
func clientActionCmd(g *globals, use, short, method, suffix string) *cobra.Command {
	return &cobra.Command{Use: use + " CLIENT_ID", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := g.do(cmd.Context(), method, g.wsPath()+"/clients/"+seg(args[0])+suffix, nil, nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, clientDetail)
		}}
}

func clientDeleteCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "delete CLIENT_ID", Short: "Delete a client", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := g.do(cmd.Context(), "DELETE", g.wsPath()+"/clients/"+seg(args[0]), nil, nil); err != nil {
				return err
			}
			return g.printDone(cmd, "deleted client "+args[0])
		}}
}

type clientFlags struct {
	id, name, desc, email, typ, method, alg, jwksFile, jwksURI string
	grants, scopes, redirects, metadata                        []string
	ttl                                                        time.Duration
	subjectFormat                                              string
	tokenFormat                                                string
	idTokenTTL                                                 time.Duration
	appType                                                    string
	dpopBound                                                  bool
	signed                                                     signedRequestFlags
	mtls                                                       mtlsFlags // RFC 8705 (mtls_flags.go)
	detailTypes                                                clientDetailTypesFlags
}

func (cf *clientFlags) add(cmd *cobra.Command, create bool) {
	f := cmd.Flags()
	if create {
		f.StringVar(&cf.id, "client-id", "", "client ID (128-bit random when empty)")
	}
	f.StringVar(&cf.name, "name", "", "display name")
	f.StringVar(&cf.desc, "description", "", "description")
	f.StringVar(&cf.email, "contact-email", "", "contact e-mail address")
	f.StringVar(&cf.typ, "type", "", "confidential or public")
	f.StringVar(&cf.appType, "application-type", "", "web, native, spa or service (sets type and grant defaults on create)")
	f.StringArrayVar(&cf.grants, "grant-type", nil, "grant type (repeat)")
	f.StringArrayVar(&cf.scopes, "scope", nil, "allowed scope (repeat)")
	f.StringArrayVar(&cf.redirects, "redirect-uri", nil, "redirect URI (repeat)")
	f.StringVar(&cf.method, "auth-method", "", "token endpoint auth method")
	f.StringVar(&cf.alg, "auth-signing-alg", "", "pinned client assertion algorithm")
	f.StringVar(&cf.jwksFile, "jwks-file", "", "file holding the client's JWK set (public keys)")
	f.StringVar(&cf.jwksURI, "jwks-uri", "", "https URL of the client's JWK set")
	f.DurationVar(&cf.ttl, "access-token-ttl", 0, "access token lifetime override (0 = workspace default)")
	f.StringArrayVar(&cf.metadata, "metadata", nil, "metadata as key=value (repeat; replaces all on update)")
	f.StringVar(&cf.subjectFormat, "subject-format", "", "what sub names: id (default), username, email or pairwise")
	f.StringVar(&cf.tokenFormat, "access-token-format", "", "jwt (default) or opaque (reference tokens resolved by introspection)")
	f.DurationVar(&cf.idTokenTTL, "id-token-ttl", 0, "ID token lifetime override (0 = the access token lifetime)")
	f.BoolVar(&cf.dpopBound, "dpop-bound-access-tokens", false, "refuse token requests without a DPoP proof (RFC 9449 §5.2)")
	cf.signed.add(cmd)
	cf.mtls.add(cmd)
	cf.detailTypes.add(cmd) // RFC 9396 §10 (clientdetailtypes_flags.go)
}

// body builds the request from the flags that were given (all of them on
// create), so update changes only what the user asked for.
func (cf *clientFlags) body(cmd *cobra.Command) (adminclient.OAuthClientRequest, error) {
	body := adminclient.OAuthClientRequest{
		ClientID: ifChanged(cmd, "client-id", cf.id), Name: ifChanged(cmd, "name", cf.name),
		Description: ifChanged(cmd, "description", cf.desc), ContactEmail: ifChanged(cmd, "contact-email", cf.email),
		Type: ifChanged(cmd, "type", cf.typ), GrantTypes: ifChanged(cmd, "grant-type", cf.grants),
		Scopes: ifChanged(cmd, "scope", cf.scopes), RedirectURIs: ifChanged(cmd, "redirect-uri", cf.redirects),
		TokenEndpointAuthMethod:     ifChanged(cmd, "auth-method", cf.method),
		TokenEndpointAuthSigningAlg: ifChanged(cmd, "auth-signing-alg", cf.alg),
		JWKSURI:                     ifChanged(cmd, "jwks-uri", cf.jwksURI),
		AccessTokenTTL:              ifChanged(cmd, "access-token-ttl", durationSeconds(cf.ttl)),
	}
	body.SubjectFormat = ifChanged(cmd, "subject-format", cf.subjectFormat)
	body.ApplicationType = ifChanged(cmd, "application-type", cf.appType)
	body.AccessTokenFormat = ifChanged(cmd, "access-token-format", cf.tokenFormat)
	body.IDTokenTTL = ifChanged(cmd, "id-token-ttl", durationSeconds(cf.idTokenTTL))
	body.DPoPBoundAccessTokens = ifChanged(cmd, "dpop-bound-access-tokens", cf.dpopBound)
	cf.signed.apply(cmd, &body)
	cf.mtls.apply(cmd, &body)
	cf.detailTypes.apply(cmd, &body)
	if cmd.Flags().Changed("metadata") {
		md, err := parsePairs("metadata", cf.metadata)
		if err != nil {
			return body, err
		}
		body.Metadata = &md
	}
	if cf.jwksFile != "" {
		b, err := os.ReadFile(cf.jwksFile)
		if err != nil {
			return body, fmt.Errorf("read --jwks-file: %w", err)
		}
		if !json.Valid(b) {
			return body, fmt.Errorf("--jwks-file %s is not valid JSON", cf.jwksFile)
		}
		body.JWKS = b
	}
	return body, nil
}

func clientWriteCmd(g *globals, create bool) *cobra.Command {
	cf := &clientFlags{}
	pf := &clientPolicyFlags{}
	ff := &clientFlowFlags{}
	xf := &clientExchangeFlags{}
	cmd := &cobra.Command{Use: "update CLIENT_ID", Short: "Change a client (only the flags given)", Args: cobra.ExactArgs(1)}
	if create {
		cmd.Use, cmd.Short, cmd.Args = "create", "Register a client (prints its secret once)", cobra.NoArgs
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		body, err := cf.body(cmd)
		if err != nil {
			return err
		}
		var current func() (*adminclient.RefreshTokenSettings, error)
		if !create {
			current = currentRefresh(cmd, g, args[0])
		}
		if err := ff.apply(cmd, &body, current); err != nil {
			return err
		}
		method, path := "POST", g.wsPath()+"/clients"
		if !create {
			method, path = "PATCH", path+"/"+seg(args[0])
			// Attached policies have their own endpoint (policies.go).
			attached, err := pf.apply(cmd, g, args[0])
			if err != nil {
				return err
			}
			// Token exchange settings too (tokenexchange.go).
			exchange, err := xf.apply(cmd, g, args[0])
			if err != nil {
				return err
			}
			if exchange != nil && emptyRequest(body) {
				return g.print(cmd, exchange, tokenExchangeDetail)
			}
			if attached != nil && emptyRequest(body) {
				return g.print(cmd, attached, clientPoliciesDetail)
			}
		}
		raw, err := g.do(cmd.Context(), method, path, nil, body)
		if err != nil {
			return err
		}
		return g.print(cmd, raw, clientDetail)
	}
	cf.add(cmd, create)
	ff.add(cmd)
	if !create {
		pf.add(cmd)
		xf.add(cmd)
	}
	return cmd
}

func clientTable(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.Page[adminclient.OAuthClient]](raw)
	if err != nil {
		return err
	}
	row(w, "CLIENT ID", "NAME", "TYPE", "ENABLED", "AUTH METHOD", "GRANT TYPES", "SCOPES")
	for _, c := range p.Items {
		row(w, c.ClientID, c.Name, c.Type, yesNo(c.Enabled), c.TokenEndpointAuthMethod, join(c.GrantTypes), join(c.Scopes))
	}
	nextPage(w, p.NextPageToken)
	return nil
}

func clientDetail(w io.Writer, raw []byte) error {
	c, err := decode[adminclient.OAuthClient](raw)
	if err != nil {
		return err
	}
	keySource := "-"
	switch {
	case c.JWKSURI != "":
		keySource = c.JWKSURI
	case len(c.JWKS) > 0:
		keySource = "inline JWKS"
	}
	kv(w, "Client ID", c.ClientID, "Name", c.Name, "Description", c.Description, "Contact", c.ContactEmail,
		"Type", c.Type, "Application type", c.ApplicationType, "Enabled", yesNo(c.Enabled), "Auth method", c.TokenEndpointAuthMethod,
		"Grant types", join(c.GrantTypes), "Scopes", join(c.Scopes), "Redirect URIs", join(c.RedirectURIs),
		"Keys", keySource, "Token TTL", fmtSeconds(c.AccessTokenTTL))
	if c.AccessTokenFormat != nil {
		kv(w, "Token format", *c.AccessTokenFormat)
	}
	if c.IDTokenTTL != nil {
		kv(w, "ID token TTL", fmtSeconds(*c.IDTokenTTL))
	}
	if c.DPoPBoundAccessTokens != nil {
		kv(w, "DPoP-bound tokens", yesNo(*c.DPoPBoundAccessTokens))
	}
	signedRequestDetail(w, c)
	mtlsDetail(w, c)
	clientDetailTypesDetail(w, c)
	keys := make([]string, 0, len(c.Metadata))
	for k := range c.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kv(w, "Metadata "+k, c.Metadata[k])
	}
	if c.SubjectFormat != nil {
		kv(w, "Subject format", *c.SubjectFormat)
	}
	printClientFlow(w, c.ClientFlow)
	for _, warning := range c.Warnings {
		kv(w, "Warning", warning)
	}
	if c.ClientSecret != "" {
		kv(w, "Client secret", c.ClientSecret)
		row(w, "")
		row(w, "Store the secret now: it is shown only once.")
	}
	return nil
}
