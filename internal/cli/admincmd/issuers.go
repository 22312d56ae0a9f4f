package admincmd

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

func issuersCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "issuers", Aliases: []string{"issuer", "trusted-issuers"},
		Short: "Manage trusted external issuers for the JWT bearer grant"}
	enable := func(use string, on bool) *cobra.Command {
		return simpleCmd(g, use+" ID", use+" a trusted issuer", 1, "PATCH", withID("/trusted-issuers"),
			func(*cobra.Command) (any, error) { return adminclient.TrustedIssuerRequest{Enabled: &on}, nil }, issuerDetail)
	}
	cmd.AddCommand(
		listCmd(g, "List trusted issuers", "/trusted-issuers", issuerTable),
		simpleCmd(g, "get ID", "Show a trusted issuer", 1, "GET", withID("/trusted-issuers"), nil, issuerDetail),
		issuerWriteCmd(g, "create", "Trust an external issuer", 0),
		issuerWriteCmd(g, "update ID", "Update a trusted issuer (only the given flags change)", 1),
		enable("enable", true), enable("disable", false),
		simpleCmd(g, "delete ID", "deleted trusted issuer", 1, "DELETE", withID("/trusted-issuers"), nil, nil),
	)
	return cmd
}

func issuerWriteCmd(g *globals, use, short string, nargs int) *cobra.Command {
	var id, name, issuer, jwksURI, jwksFile, audience, serviceUser, claim, format string
	var clients []string
	var lifetime time.Duration
	var enabled bool
	method, path := "POST", fixed("/trusted-issuers")
	if nargs == 1 {
		method, path = "PATCH", withID("/trusted-issuers")
	}
	cmd := simpleCmd(g, use, short, nargs, method, path, func(cmd *cobra.Command) (any, error) {
		body := adminclient.TrustedIssuerRequest{
			ID: ifChanged(cmd, "id", id), Name: ifChanged(cmd, "name", name), Issuer: ifChanged(cmd, "issuer", issuer),
			JWKSURI: ifChanged(cmd, "jwks-uri", jwksURI), Audience: ifChanged(cmd, "audience", audience),
			AllowedClients:       ifChanged(cmd, "allowed-client", clients),
			MaxAssertionLifetime: ifChanged(cmd, "max-assertion-lifetime", durationSeconds(lifetime)),
			Enabled:              ifChanged(cmd, "enabled", enabled), ServiceUserID: ifChanged(cmd, "service-user", serviceUser),
			Claim: ifChanged(cmd, "claim", claim), ClaimFormat: ifChanged(cmd, "claim-format", format),
		}
		if jwksFile != "" {
			data, err := os.ReadFile(jwksFile)
			if err != nil {
				return nil, err
			}
			if !json.Valid(data) {
				return nil, fmt.Errorf("--jwks-file %s is not JSON", jwksFile)
			}
			body.JWKS = data
		}
		return body, nil
	}, issuerDetail)
	cmd.Example = `  latchkey admin issuers create --name "Entra ID" --issuer https://login.example.com/tenant/v2.0 \
    --jwks-uri https://login.example.com/tenant/discovery/v2.0/keys --audience api://cmic \
    --allowed-client cmic-integration --claim cmicuser --claim-format 'tenant||username'`
	f := cmd.Flags()
	if nargs == 0 {
		f.StringVar(&id, "id", "", "ID (generated when empty)")
	}
	f.StringVar(&name, "name", "", "display name")
	f.StringVar(&issuer, "issuer", "", "the exact iss of its JWTs")
	f.StringVar(&jwksURI, "jwks-uri", "", "https URL of its JWKS")
	f.StringVar(&jwksFile, "jwks-file", "", "file with an inline JWKS (instead of --jwks-uri)")
	f.StringVar(&audience, "audience", "", "expected aud (App ID)")
	f.StringArrayVar(&clients, "allowed-client", nil, "client ID that may present its JWTs (repeat)")
	f.DurationVar(&lifetime, "max-assertion-lifetime", 0, "maximum exp-iat (default 60m)")
	f.BoolVar(&enabled, "enabled", true, "enabled")
	f.StringVar(&serviceUser, "service-user", "", "map every JWT to this service user ID")
	f.StringVar(&claim, "claim", "", "claim naming the user, e.g. cmicuser")
	f.StringVar(&format, "claim-format", "", "plain, tenant||username or email")
	return cmd
}

func issuerTable(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.Page[adminclient.TrustedIssuer]](raw)
	if err != nil {
		return err
	}
	row(w, "ID", "NAME", "ISSUER", "ENABLED", "MAPPING")
	for _, ti := range p.Items {
		row(w, ti.ID, ti.Name, ti.Issuer, fmt.Sprint(ti.Enabled), mapping(ti))
	}
	nextPage(w, p.NextPageToken)
	return nil
}

func mapping(ti adminclient.TrustedIssuer) string {
	if ti.ServiceUserID != "" {
		return "service user " + ti.ServiceUserID
	}
	return "claim " + ti.Claim + " (" + ti.ClaimFormat + ")"
}

func issuerDetail(w io.Writer, raw []byte) error {
	ti, err := decode[adminclient.TrustedIssuer](raw)
	if err != nil {
		return err
	}
	kv(w, "ID", ti.ID, "Name", ti.Name, "Issuer", ti.Issuer, "JWKS URI", dash(ti.JWKSURI), "Audience", dash(ti.Audience),
		"Allowed clients", join(ti.AllowedClients), "Max assertion lifetime", fmtSeconds(ti.MaxAssertionLifetime),
		"Enabled", fmt.Sprint(ti.Enabled), "Mapping", mapping(ti))
	return nil
}

// --- client JWT bearer settings

func jwtBearerCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "jwt-bearer", Short: "Show or set a client's JWT bearer grant settings and service user"}
	var s adminclient.JWTBearerSettings
	var lifetime time.Duration
	set := simpleCmd(g, "set CLIENT_ID", "Replace a client's JWT bearer settings", 1, "PUT",
		func(args []string) string { return "/clients/" + seg(args[0]) + "/jwt-bearer" },
		func(*cobra.Command) (any, error) {
			s.MaxAssertionLifetime = durationSeconds(lifetime)
			return s, nil
		}, jwtBearerDetail)
	set.Example = `  latchkey admin jwt-bearer set servicenow-app --user-field email
  latchkey admin jwt-bearer set sf-app --pre-auth admin_approved --allowed-profile integration --max-assertion-lifetime 3m`
	f := set.Flags()
	f.StringVar(&s.UserField, "user-field", "username", "user field the sub is matched on: username, email, user_id, external_id")
	f.StringVar(&s.PreAuth, "pre-auth", "admin_approved", "admin_approved (only the allowed profiles and users) or all_users (any user of the workspace)")
	f.StringArrayVar(&s.AllowedProfiles, "allowed-profile", nil, "pre-authorized profile ID (repeat)")
	f.StringArrayVar(&s.AllowedUsers, "allowed-user", nil, "pre-authorized user ID (repeat)")
	f.StringArrayVar(&s.ExtraAudiences, "extra-audience", nil, "additional accepted aud, e.g. a login URL (repeat)")
	f.DurationVar(&lifetime, "max-assertion-lifetime", time.Hour, "maximum exp-iat of assertions")
	f.BoolVar(&s.AllowHS256, "allow-hs256", false, "accept HS256 assertions keyed by the client secret")
	f.BoolVar(&s.RefreshTokens, "refresh-tokens", false, "issue refresh tokens on this grant")
	f.StringArrayVar(&s.AllowedTrustedIssuers, "allowed-issuer", nil, "trusted issuer ID whose JWTs this client may present (repeat)")
	f.StringVar(&s.ServiceUserID, "service-user", "", "service user ID that becomes the sub of client_credentials tokens")
	cmd.AddCommand(
		simpleCmd(g, "get CLIENT_ID", "Show a client's JWT bearer settings", 1, "GET",
			func(args []string) string { return "/clients/" + seg(args[0]) + "/jwt-bearer" }, nil, jwtBearerDetail),
		set,
	)
	return cmd
}

func jwtBearerDetail(w io.Writer, raw []byte) error {
	s, err := decode[adminclient.JWTBearerSettings](raw)
	if err != nil {
		return err
	}
	kv(w, "User field", s.UserField, "Pre-authorization", s.PreAuth, "Allowed profiles", join(s.AllowedProfiles),
		"Allowed users", join(s.AllowedUsers), "Extra audiences", join(s.ExtraAudiences),
		"Max assertion lifetime", fmtSeconds(s.MaxAssertionLifetime), "Allow HS256", fmt.Sprint(s.AllowHS256),
		"Refresh tokens", fmt.Sprint(s.RefreshTokens), "Allowed issuers", join(s.AllowedTrustedIssuers),
		"Service user", dash(s.ServiceUserID))
	return nil
}
