package grants

import (
	"context"
	"net/url"
	"slices"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// grantFunc is one grant's own steps of the pipeline. It runs after the
// client has been authenticated and allowed the grant type, and returns
// the token response or a protocol error.
type grantFunc func(h *Handler, ctx context.Context, req *request, form url.Values) (*tokenResponse, error)

// typed builds a grant from its two steps, as Dex's grants and zitadel's
// typed requests do: parse reads the grant's own parameters from the body
// into its typed request P (a missing or malformed parameter ends the
// request there), and issue authorizes that request and mints the tokens.
// issue never sees the body, so a grant reads only what its parse declared.
func typed[P any](
	parse func(req *request, form url.Values) (P, error),
	issue func(h *Handler, ctx context.Context, req *request, p P) (*tokenResponse, error),
) grantFunc {
	return func(h *Handler, ctx context.Context, req *request, form url.Values) (*tokenResponse, error) {
		p, err := parse(req, form)
		if err != nil {
			return nil, err
		}
		return issue(h, ctx, req, p)
	}
}

// registry maps grant_type to its implementation. Adding a grant is one new
// file (its typed request, parse and issue) plus one entry here; discovery
// advertises exactly these keys.
var registry = map[string]grantFunc{
	oauth2.GrantClientCredentials: typed(parseClientCredentials, (*Handler).clientCredentials),
	oauth2.GrantJWTBearer:         typed(parseJWTBearer, (*Handler).jwtBearer),
	oauth2.GrantAuthorizationCode: typed(parseAuthCode, (*Handler).authorizationCode),
	oauth2.GrantRefreshToken:      typed(parseRefresh, (*Handler).refreshToken),
	oauth2.GrantTokenExchange:     typed(parseTokenExchange, (*Handler).tokenExchange),
	oauth2.GrantDeviceCode:        typed(parseDeviceCode, (*Handler).deviceCode),
	oauth2.GrantCIBA:              typed(parseCIBA, (*Handler).ciba),
}

// Supported returns the grant types the token endpoint accepts, sorted.
// Discovery publishes this list as grant_types_supported (SECURITY.md P1).
func Supported() []string {
	out := make([]string, 0, len(registry))
	for gt := range registry {
		out = append(out, gt)
	}
	slices.Sort(out)
	return out
}
