package admincmd

import (
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// tokenTypePrefix starts every RFC 8693 §3 token type identifier; the
// flags accept the short names after it.
const tokenTypePrefix = "urn:ietf:params:oauth:token-type:"

// clientExchangeFlags are the --token-exchange-* flags of "clients
// update": they change the client's token exchange settings (RFC 8693)
// through PUT .../token-exchange, keeping what no flag names.
type clientExchangeFlags struct {
	subjectTypes, issuers, audiences []string
	impersonate, delegate, refresh   bool
}

func (xf *clientExchangeFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&xf.subjectTypes, "token-exchange-subject-type", nil,
		`subject token type the client may exchange: access_token, refresh_token, id_token or jwt (repeat; "" clears)`)
	f.StringArrayVar(&xf.issuers, "token-exchange-issuer", nil,
		`trusted issuer ID whose JWTs the client may exchange or present as actor (repeat; "" clears)`)
	f.StringArrayVar(&xf.audiences, "token-exchange-audience", nil,
		`logical audience the client may ask for besides the services of granted scopes (repeat; "" clears)`)
	f.BoolVar(&xf.impersonate, "token-exchange-impersonate", false, "allow exchanges without an actor token (impersonation)")
	f.BoolVar(&xf.delegate, "token-exchange-delegate", false, "allow exchanges with an actor token (delegation, act claim)")
	f.BoolVar(&xf.refresh, "token-exchange-refresh-tokens", false,
		"allow requested_token_type refresh_token (needs the refresh_token grant type)")
}

var exchangeFlagNames = []string{
	"token-exchange-subject-type", "token-exchange-issuer", "token-exchange-audience",
	"token-exchange-impersonate", "token-exchange-delegate", "token-exchange-refresh-tokens",
}

func (xf *clientExchangeFlags) given(cmd *cobra.Command) bool {
	return slices.ContainsFunc(exchangeFlagNames, cmd.Flags().Changed)
}

// apply updates the settings named by flags. It returns the answer, or
// nil when no --token-exchange-* flag was given.
func (xf *clientExchangeFlags) apply(cmd *cobra.Command, g *globals, clientID string) ([]byte, error) {
	if !xf.given(cmd) {
		return nil, nil
	}
	path := g.wsPath() + "/clients/" + seg(clientID) + "/token-exchange"
	raw, err := g.do(cmd.Context(), "GET", path, nil, nil)
	if err != nil {
		return nil, err
	}
	cur, err := decode[adminclient.TokenExchangeSettings](raw)
	if err != nil {
		return nil, err
	}
	f := cmd.Flags()
	if f.Changed("token-exchange-subject-type") {
		cur.SubjectTokenTypes = nil
		for _, t := range nonEmpty(xf.subjectTypes) {
			if !strings.HasPrefix(t, tokenTypePrefix) {
				t = tokenTypePrefix + t
			}
			cur.SubjectTokenTypes = append(cur.SubjectTokenTypes, t)
		}
	}
	if f.Changed("token-exchange-issuer") {
		cur.AllowedIssuers = nonEmpty(xf.issuers)
	}
	if f.Changed("token-exchange-audience") {
		cur.AllowedAudiences = nonEmpty(xf.audiences)
	}
	if f.Changed("token-exchange-impersonate") {
		cur.MayImpersonate = xf.impersonate
	}
	if f.Changed("token-exchange-delegate") {
		cur.MayDelegate = xf.delegate
	}
	if f.Changed("token-exchange-refresh-tokens") {
		cur.RefreshTokens = xf.refresh
	}
	return g.do(cmd.Context(), "PUT", path, nil, cur)
}

func nonEmpty(list []string) []string {
	out := []string{}
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func tokenExchangeDetail(w io.Writer, raw []byte) error {
	s, err := decode[adminclient.TokenExchangeSettings](raw)
	if err != nil {
		return err
	}
	short := make([]string, len(s.SubjectTokenTypes))
	for i, t := range s.SubjectTokenTypes {
		short[i] = strings.TrimPrefix(t, tokenTypePrefix)
	}
	kv(w, "Subject token types", join(short), "Trusted issuers", join(s.AllowedIssuers),
		"Audiences", join(s.AllowedAudiences), "Impersonation", yesNo(s.MayImpersonate),
		"Delegation", yesNo(s.MayDelegate), "Refresh tokens", yesNo(s.RefreshTokens))
	return nil
}
