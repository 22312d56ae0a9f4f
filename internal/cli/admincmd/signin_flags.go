package admincmd

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// Flags that close the gaps between the CLI and the API/console: a
// client's sign-in settings, a workspace's key and assertion settings,
// service and profile updates, workspace enable/disable.

// clientFlowFlags are a client's sign-in (authorization code flow)
// settings: consent page presentation, OpenID Connect subject and logout
// settings, ID token algorithm and refresh token rules.
type clientFlowFlags struct {
	policyURI, tosURI, clientURI, logoURI string
	trusted, requirePKCE                  bool
	subjectType, sectorURI, idTokenAlg    string
	logoutURIs                            []string
	refreshAlways, refreshNoRotation      bool
	refreshGrace, refreshIdle, refreshAbs time.Duration
	logout                                logoutChannelFlags
	ciba                                  cibaFlags
}

// refreshFlags are the flags of the refresh_tokens object.
var refreshFlags = []string{"refresh-always", "refresh-no-rotation", "refresh-grace-period", "refresh-idle-ttl", "refresh-absolute-ttl"}

func (ff *clientFlowFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&ff.policyURI, "policy-uri", "", "privacy policy URL shown on the consent page")
	f.StringVar(&ff.tosURI, "tos-uri", "", "terms of service URL shown on the consent page")
	f.StringVar(&ff.clientURI, "client-uri", "", "home page URL of the application")
	f.StringVar(&ff.logoURI, "logo-uri", "", "logo URL shown on the consent page")
	f.BoolVar(&ff.trusted, "trusted", false, "first-party app: users are not asked to consent")
	f.BoolVar(&ff.requirePKCE, "require-pkce", false, "require PKCE (RFC 7636) on authorization requests (public clients always do)")
	f.StringVar(&ff.subjectType, "subject-type", "", "OpenID Connect subject type: public or pairwise")
	f.StringVar(&ff.sectorURI, "sector-identifier-uri", "", "https URL listing the redirect URIs that share pairwise subjects")
	f.StringArrayVar(&ff.logoutURIs, "post-logout-redirect-uri", nil, "URI to return to after logout (repeat; replaces the list)")
	f.StringVar(&ff.idTokenAlg, "id-token-alg", "", "ID token signing algorithm (empty or the workspace's algorithm)")
	f.BoolVar(&ff.refreshAlways, "refresh-always", false, "issue refresh tokens without the offline_access scope")
	f.BoolVar(&ff.refreshNoRotation, "refresh-no-rotation", false, "keep the refresh token on refresh (confidential clients only)")
	f.DurationVar(&ff.refreshGrace, "refresh-grace-period", 0, "how long a rotated refresh token still works")
	f.DurationVar(&ff.refreshIdle, "refresh-idle-ttl", 0, "refresh token lifetime without use (0 = default)")
	f.DurationVar(&ff.refreshAbs, "refresh-absolute-ttl", 0, "refresh token lifetime from sign-in (0 = default)")
	ff.logout.add(cmd)
	ff.ciba.add(cmd)
}

// apply sets the members whose flags were given. The refresh token rules
// are one object in the API, so an update that changes some of them
// starts from the client's current rules (current is nil on create).
func (ff *clientFlowFlags) apply(cmd *cobra.Command, body *adminclient.OAuthClientRequest, current func() (*adminclient.RefreshTokenSettings, error)) error {
	cf := &body.ClientFlow
	cf.PolicyURI = ifChanged(cmd, "policy-uri", ff.policyURI)
	cf.TOSURI = ifChanged(cmd, "tos-uri", ff.tosURI)
	cf.ClientURI = ifChanged(cmd, "client-uri", ff.clientURI)
	cf.LogoURI = ifChanged(cmd, "logo-uri", ff.logoURI)
	cf.Trusted = ifChanged(cmd, "trusted", ff.trusted)
	cf.RequirePKCE = ifChanged(cmd, "require-pkce", ff.requirePKCE)
	cf.SubjectType = ifChanged(cmd, "subject-type", ff.subjectType)
	cf.SectorIdentifierURI = ifChanged(cmd, "sector-identifier-uri", ff.sectorURI)
	cf.PostLogoutRedirectURIs = ifChanged(cmd, "post-logout-redirect-uri", ff.logoutURIs)
	cf.IDTokenSignedResponseAlg = ifChanged(cmd, "id-token-alg", ff.idTokenAlg)
	ff.logout.apply(cmd, cf)
	ff.ciba.apply(cmd, cf)
	changed := false
	for _, name := range refreshFlags {
		changed = changed || cmd.Flags().Changed(name)
	}
	if !changed {
		return nil
	}
	rt := adminclient.RefreshTokenSettings{}
	if current != nil {
		cur, err := current()
		if err != nil {
			return err
		}
		if cur != nil {
			rt = *cur
		}
	}
	f := cmd.Flags()
	if f.Changed("refresh-always") {
		rt.Always = ff.refreshAlways
	}
	if f.Changed("refresh-no-rotation") {
		rt.NoRotation = ff.refreshNoRotation
	}
	if f.Changed("refresh-grace-period") {
		rt.GracePeriod = durationSeconds(ff.refreshGrace)
	}
	if f.Changed("refresh-idle-ttl") {
		rt.IdleTTL = durationSeconds(ff.refreshIdle)
	}
	if f.Changed("refresh-absolute-ttl") {
		rt.AbsoluteTTL = durationSeconds(ff.refreshAbs)
	}
	cf.RefreshTokens = &rt
	return nil
}

// currentRefresh reads a client's refresh token rules.
func currentRefresh(cmd *cobra.Command, g *globals, clientID string) func() (*adminclient.RefreshTokenSettings, error) {
	return func() (*adminclient.RefreshTokenSettings, error) {
		raw, err := g.do(cmd.Context(), "GET", g.wsPath()+"/clients/"+seg(clientID), nil, nil)
		if err != nil {
			return nil, err
		}
		c, err := decode[adminclient.OAuthClient](raw)
		return c.RefreshTokens, err
	}
}

// wsSettingFlags are the workspace settings the API has beyond the
// common ones: key rotation period and the JWT bearer assertion rules.
type wsSettingFlags struct {
	rotation, maxAssertion time.Duration
	strictAudience         bool
	requirePAR             bool
	parTTL                 time.Duration
	dpopNonce              bool
	fapiProfile            string
}

func (wf *wsSettingFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.DurationVar(&wf.rotation, "key-rotation-period", 0, "rotate signing keys automatically this often (0 = never)")
	f.DurationVar(&wf.maxAssertion, "max-assertion-lifetime", 0, "longest exp - iat accepted in a JWT bearer assertion (RFC 7523)")
	f.BoolVar(&wf.strictAudience, "strict-assertion-audience", false, "accept only the token endpoint URL as a JWT bearer assertion's aud")
	f.BoolVar(&wf.requirePAR, "require-pushed-authorization-requests", false, "accept authorization requests only through the PAR endpoint (RFC 9126)")
	f.DurationVar(&wf.parTTL, "pushed-request-ttl", 0, "how long a request_uri from the PAR endpoint stays valid, 10s..10m (RFC 9126 §2.2; 0 = the default, 60s)")
	f.BoolVar(&wf.dpopNonce, "dpop-nonce", false, "require a server nonce in DPoP proofs (RFC 9449 §8)")
	f.StringVar(&wf.fapiProfile, "fapi-profile", "", `enforce a FAPI 2.0 profile: "fapi2-security", "fapi2-message-signing" or "" (off); see docs/fapi.md`)
}

func (wf *wsSettingFlags) apply(cmd *cobra.Command, s *adminclient.SettingsRequest) {
	s.KeyRotationPeriod = ifChanged(cmd, "key-rotation-period", durationSeconds(wf.rotation))
	s.MaxAssertionLifetime = ifChanged(cmd, "max-assertion-lifetime", durationSeconds(wf.maxAssertion))
	s.StrictAssertionAudience = ifChanged(cmd, "strict-assertion-audience", wf.strictAudience)
	s.RequirePushedAuthorizationRequests = ifChanged(cmd, "require-pushed-authorization-requests", wf.requirePAR)
	s.PushedRequestTTL = ifChanged(cmd, "pushed-request-ttl", durationSeconds(wf.parTTL))
	s.DPoPNonce = ifChanged(cmd, "dpop-nonce", wf.dpopNonce)
	s.FAPIProfile = ifChanged(cmd, "fapi-profile", wf.fapiProfile)
}

// workspaceEnableCmd enables or disables a workspace: a disabled one
// issues no tokens.
func workspaceEnableCmd(g *globals, enable bool) *cobra.Command {
	use, short := "disable ID", "Disable a workspace (it issues no tokens until enabled)"
	if enable {
		use, short = "enable ID", "Enable a workspace"
	}
	return &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := g.do(cmd.Context(), "PATCH", "/workspaces/"+seg(args[0]), nil, adminclient.WorkspaceRequest{Enabled: &enable})
			if err != nil {
				return err
			}
			return g.print(cmd, raw, workspaceDetail)
		}}
}

// serviceFields are the flags of a service update besides its access
// policy; apply sends them with PATCH when any was given.
type serviceFields struct {
	name, desc, identifier string
	scopes                 []string
	detailTypes            []string // RFC 9396 types (authzdetails.go)
}

func (sf *serviceFields) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&sf.name, "name", "", "display name")
	f.StringVar(&sf.desc, "description", "", "description")
	f.StringVar(&sf.identifier, "identifier", "", "audience of tokens for this service")
	f.StringArrayVar(&sf.scopes, "scope", nil, "scope as name=description (repeat; replaces the list)")
	addDetailTypeFlag(cmd, &sf.detailTypes)
}

// apply PATCHes the service with the flags given and returns the answer,
// or nil when no such flag was given.
func (sf *serviceFields) apply(cmd *cobra.Command, g *globals, id string) ([]byte, error) {
	body := adminclient.ServiceRequest{Name: ifChanged(cmd, "name", sf.name), Description: ifChanged(cmd, "description", sf.desc),
		Identifier: ifChanged(cmd, "identifier", sf.identifier)}
	if cmd.Flags().Changed("scope") {
		pairs, err := parseScopes(sf.scopes)
		if err != nil {
			return nil, err
		}
		body.Scopes = &pairs
	}
	if cmd.Flags().Changed(detailTypeFlag) {
		types, err := readDetailTypes(sf.detailTypes)
		if err != nil {
			return nil, err
		}
		body.AuthorizationDetailTypes = &types
	}
	if body == (adminclient.ServiceRequest{}) {
		return nil, nil
	}
	return g.do(cmd.Context(), "PATCH", g.wsPath()+"/services/"+seg(id), nil, body)
}

// profileUpdateCmd changes a profile's name or description.
func profileUpdateCmd(g *globals) *cobra.Command {
	var name, desc string
	cmd := simpleCmd(g, "update ID", "Change a profile (only the flags given)", 1, "PATCH", withID("/profiles"),
		func(cmd *cobra.Command) (any, error) {
			body := adminclient.ProfileRequest{Name: ifChanged(cmd, "name", name), Description: ifChanged(cmd, "description", desc)}
			if body == (adminclient.ProfileRequest{}) {
				return nil, fmt.Errorf("nothing to change: give --name or --description")
			}
			return body, nil
		}, profileDetail)
	cmd.Flags().StringVar(&name, "name", "", "name (unique in the workspace)")
	cmd.Flags().StringVar(&desc, "description", "", "description")
	return cmd
}

// printClientFlow adds a client's sign-in settings to its detail table.
func printClientFlow(w io.Writer, cf adminclient.ClientFlow) {
	str := func(p *string) string {
		if p == nil {
			return "-"
		}
		return dash(*p)
	}
	flag := func(p *bool) string {
		if p == nil {
			return "-"
		}
		return yesNo(*p)
	}
	var logout []string
	if cf.PostLogoutRedirectURIs != nil {
		logout = *cf.PostLogoutRedirectURIs
	}
	kv(w, "Trusted", flag(cf.Trusted), "Require PKCE", flag(cf.RequirePKCE), "Subject type", str(cf.SubjectType),
		"Sector identifier", str(cf.SectorIdentifierURI), "Logout URIs", join(logout), "ID token alg", str(cf.IDTokenSignedResponseAlg),
		"Policy URI", str(cf.PolicyURI), "Terms URI", str(cf.TOSURI), "Client URI", str(cf.ClientURI), "Logo URI", str(cf.LogoURI))
	if rt := cf.RefreshTokens; rt != nil {
		kv(w, "Refresh", fmt.Sprintf("always=%s rotation=%s grace=%s idle=%s absolute=%s", yesNo(rt.Always), yesNo(!rt.NoRotation),
			fmtSeconds(rt.GracePeriod), fmtSeconds(rt.IdleTTL), fmtSeconds(rt.AbsoluteTTL)))
	}
}

// expirePasswordCmd expires a user's password at once (the user is signed
// out everywhere); --send-link then e-mails a set-password link.
func expirePasswordCmd(g *globals) *cobra.Command {
	var sendLink bool
	cmd := &cobra.Command{Use: "expire-password ID", Short: "Expire the user's password at once and sign the user out everywhere", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := g.wsPath() + "/users/" + seg(args[0])
			if _, err := g.do(cmd.Context(), "POST", path+"/password/expire", nil, nil); err != nil {
				return err
			}
			if !sendLink {
				return g.printDone(cmd, "password expired for user "+args[0])
			}
			raw, err := g.do(cmd.Context(), "POST", path+"/password-link", nil, nil)
			if err != nil {
				return fmt.Errorf("password expired, but the set-password link was not sent: %w", err)
			}
			if g.output == "json" {
				_, err := cmd.OutOrStdout().Write(raw)
				return err
			}
			sent, err := decode[adminclient.PasswordLinkSent](raw)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "password expired for user %s; set-password link sent to %s\n", args[0], sent.SentTo)
			return err
		}}
	cmd.Flags().BoolVar(&sendLink, "send-link", false, "then e-mail the user a link to choose a new password")
	return cmd
}
