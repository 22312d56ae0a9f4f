package grants

import (
	"context"
	"errors"
	"net"
	"net/http"
	"regexp"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// workspaceIDPattern is the workspace ID syntax (docs/architecture.md).
// Checking it first keeps garbage path segments away from the store.
var workspaceIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// errUnknownWorkspace is the answer for unknown and disabled workspaces
// alike, so a disabled workspace is indistinguishable from a missing one.
func errUnknownWorkspace() *oauth2.Error {
	return oauth2.NewError(oauth2.ErrInvalidRequest, "unknown workspace").WithStatus(http.StatusNotFound)
}

// errUnavailable is the answer when storage fails: 503, never a success
// and never internal text on the wire (SECURITY.md I8).
func errUnavailable(cause error) *oauth2.Error {
	return oauth2.Wrap(oauth2.ErrTemporarilyUnavailable, "the service is temporarily unavailable", cause)
}

// ErrUnavailable wraps a storage or key failure as a 503
// temporarily_unavailable protocol error whose cause is only logged.
func ErrUnavailable(cause error) error { return errUnavailable(cause) }

// LookupWorkspace resolves the workspace named by a request path through
// store (the cached store). Unknown, malformed and disabled workspaces are
// a 404 JSON error; storage failures a 503.
func LookupWorkspace(ctx context.Context, store storage.Storage, id string) (storage.Workspace, error) {
	if !workspaceIDPattern.MatchString(id) {
		return storage.Workspace{}, errUnknownWorkspace()
	}
	ws, err := store.GetWorkspace(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Workspace{}, errUnknownWorkspace()
	}
	if err != nil {
		return storage.Workspace{}, errUnavailable(err)
	}
	if !ws.Enabled {
		return storage.Workspace{}, errUnknownWorkspace()
	}
	return ws, nil
}

// Issuer is the issuer identifier of workspace wsID: the configured base
// URL, never one derived from Host or X-Forwarded-* (SECURITY.md J2).
func Issuer(baseURL, wsID string) string { return baseURL + "/w/" + wsID }

// TokenEndpoint is the token endpoint URL of an issuer.
func TokenEndpoint(issuer string) string { return issuer + "/oauth2/token" }

// RemoteIP is the peer address of r, used as the per-IP rate-limit key by
// client authentication. It reads RemoteAddr only: forwarded headers are
// attacker input unless a trusted-proxy middleware has already rewritten
// RemoteAddr (SECURITY.md J2).
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// MethodNotAllowed answers any method but POST on a POST-only endpoint:
// 405 with Allow: POST and a JSON invalid_request body (SECURITY.md Q1).
func MethodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", http.MethodPost)
	oauth2.WriteError(w, oauth2.NewError(oauth2.ErrInvalidRequest, "the endpoint accepts POST only").WithStatus(http.StatusMethodNotAllowed))
}
