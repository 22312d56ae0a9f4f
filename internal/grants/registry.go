package grants

import (
	"context"
	"slices"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// grantFunc is one grant's own step of the pipeline. It runs after the
// client has been authenticated and allowed the grant type, and returns
// the token response or a protocol error.
type grantFunc func(h *Handler, ctx context.Context, req *request) (*tokenResponse, error)

// registry maps grant_type to its implementation. Adding a grant is one new
// file plus one entry here; discovery advertises exactly these keys.
var registry = map[string]grantFunc{
	oauth2.GrantClientCredentials: (*Handler).clientCredentials,
	oauth2.GrantJWTBearer:         (*Handler).jwtBearer,
	oauth2.GrantAuthorizationCode: (*Handler).authorizationCode,
	oauth2.GrantRefreshToken:      (*Handler).refreshToken,
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
