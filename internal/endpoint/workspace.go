package endpoint

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// workspaceIDPattern is the workspace ID syntax (docs/architecture.md).
// Checking it first keeps garbage path segments away from the store.
var workspaceIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// WorkspaceStore is what resolving a workspace needs from storage: one
// lookup, normally served by the cached store.
type WorkspaceStore interface {
	GetWorkspace(ctx context.Context, id string) (storage.Workspace, error)
}

// ErrUnknownWorkspace is the answer for unknown, malformed and disabled
// workspaces alike, so a disabled workspace is indistinguishable from a
// missing one.
func ErrUnknownWorkspace() *oauth2.Error {
	return oauth2.NewError(oauth2.ErrInvalidRequest, "unknown workspace").WithStatus(http.StatusNotFound)
}

// ErrUnavailable is the answer when storage or the keys fail: 503
// temporarily_unavailable, never a success and never internal text on the
// wire; the cause is only logged (SECURITY.md I8, docs/security.md R5).
func ErrUnavailable(cause error) *oauth2.Error {
	return oauth2.Wrap(oauth2.ErrTemporarilyUnavailable, "the service is temporarily unavailable", cause)
}

// LookupWorkspace resolves workspace id through store. Unknown, malformed
// and disabled workspaces are ErrUnknownWorkspace; storage failures
// ErrUnavailable.
func LookupWorkspace(ctx context.Context, store WorkspaceStore, id string) (storage.Workspace, error) {
	if !workspaceIDPattern.MatchString(id) {
		return storage.Workspace{}, ErrUnknownWorkspace()
	}
	ws, err := store.GetWorkspace(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Workspace{}, ErrUnknownWorkspace()
	}
	if err != nil {
		return storage.Workspace{}, ErrUnavailable(err)
	}
	if !ws.Enabled {
		return storage.Workspace{}, ErrUnknownWorkspace()
	}
	return ws, nil
}

// Issuer is the issuer identifier of workspace wsID: the configured base
// URL, never one derived from Host or X-Forwarded-* (SECURITY.md J2).
func Issuer(baseURL, wsID string) string { return baseURL + "/w/" + wsID }

// TokenEndpoint is the token endpoint URL of an issuer.
func TokenEndpoint(issuer string) string { return issuer + "/oauth2/token" }

// ErrorWriter answers a request in the format of its surface: JSON for
// the protocol endpoints, a page for the browser-facing ones.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, e *oauth2.Error)

// WriteJSONError is the ErrorWriter of the JSON endpoints (RFC 6749 §5.2).
func WriteJSONError(w http.ResponseWriter, _ *http.Request, e *oauth2.Error) {
	oauth2.WriteError(w, e)
}

// Workspaces resolves the {ws} path segment of the routes it wraps.
type Workspaces struct {
	Store   WorkspaceStore // the cached store
	BaseURL string         // the configured public base URL
	Logger  *slog.Logger   // may be nil
}

// Resolve wraps next so that it runs only for an enabled workspace, which
// it finds in the request context. Any other request is answered by fail
// with ErrUnknownWorkspace or ErrUnavailable, and logged here, once.
func (s Workspaces) Resolve(next http.HandlerFunc, fail ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ws, err := LookupWorkspace(ctx, s.Store, r.PathValue("ws"))
		if err != nil {
			e := oauth2.AsError(err)
			LogFailure(ctx, s.Logger, "workspace not resolved", e, slog.String("workspace", r.PathValue("ws")))
			fail(w, r, e)
			return
		}
		next(w, r.WithContext(context.WithValue(ctx, workspaceKey{}, &resolved{ws: ws, issuer: Issuer(s.BaseURL, ws.ID)})))
	})
}

type workspaceKey struct{}

// resolved is what Resolve stores in the request context.
type resolved struct {
	ws     storage.Workspace
	issuer string
}

// WorkspaceFromContext returns the workspace Resolve found; ok is false
// when the request did not pass through Resolve (a wiring mistake).
func WorkspaceFromContext(ctx context.Context) (ws storage.Workspace, ok bool) {
	res, ok := ctx.Value(workspaceKey{}).(*resolved)
	if !ok {
		return storage.Workspace{}, false
	}
	return res.ws, true
}

// IssuerFromContext returns the issuer of the workspace Resolve found; ""
// when the request did not pass through Resolve.
func IssuerFromContext(ctx context.Context) string {
	if res, ok := ctx.Value(workspaceKey{}).(*resolved); ok {
		return res.issuer
	}
	return ""
}
