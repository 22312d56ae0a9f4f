package introspect

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"path"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/clientauth"
	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/ratelimit"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// KeySource returns a workspace's published public keys.
// *signing.Manager implements it (and caches the set).
type KeySource interface {
	PublicKeys(ctx context.Context, wsID string) (jose.JSONWebKeySet, error)
}

// Authenticator authenticates the calling client (SECURITY.md B11).
// *clientauth.Authenticator implements it.
type Authenticator interface {
	Authenticate(ctx context.Context, r clientauth.Request, remoteIP string) (clientauth.Result, error)
}

// Limiter is a per-caller request budget (SECURITY.md N2).
// *ratelimit.Limiter implements it.
type Limiter interface {
	Allow(key string) (ok bool, retryAfter time.Duration)
}

// TokenStore is what introspection and revocation need from storage: the
// workspace, the token's client, revocation marks of access tokens, and
// refresh tokens with their families.
type TokenStore interface {
	endpoint.WorkspaceStore
	oidc.SaltStore // pairwise sub of a refresh token's user
	GetUser(ctx context.Context, workspaceID, id string) (storage.User, error)
	GetClient(ctx context.Context, workspaceID, id string) (storage.Client, error)
	IsTokenRevoked(ctx context.Context, workspaceID, jti string) (bool, error)
	RevokeToken(ctx context.Context, r storage.RevokedToken) error
	GetRefreshToken(ctx context.Context, workspaceID string, hash []byte) (storage.TokenFamily, int, error)
	GetTokenFamily(ctx context.Context, workspaceID, id string) (storage.TokenFamily, error)
	RevokeTokenFamily(ctx context.Context, workspaceID, id string, now time.Time) error
	tokens.OpaqueReader
	DeleteOpaqueToken(ctx context.Context, workspaceID string, hash []byte) error
}

// The production implementations.
var (
	_ Authenticator = (*clientauth.Authenticator)(nil)
	_ KeySource     = (*signing.Manager)(nil)
	_ Limiter       = (*ratelimit.Limiter)(nil)
	_ TokenStore    = storage.Storage(nil)
)

// Handler serves introspection and revocation for every workspace.
type Handler struct {
	Store   TokenStore // the cached store; IsTokenRevoked/RevokeToken go to the database
	Auth    Authenticator
	Keys    KeySource
	BaseURL string
	Now     func() time.Time
	Logger  *slog.Logger
	Limiter Limiter // may be nil
	// Status sets revoked JWT access tokens' status list bits (statuslist.go).
	Status StatusDeps

	// verified caches signature checks; Mount creates it (nil: no cache).
	verified *verifiedCache
}

// Mount registers both endpoints behind workspace resolution, and 405 for
// other methods on their paths.
func (h *Handler) Mount(mux *http.ServeMux) {
	h.verified = newVerifiedCache()
	workspaces := endpoint.Workspaces{Store: h.Store, BaseURL: h.BaseURL, Logger: h.Logger}
	mux.Handle("POST /w/{ws}/oauth2/introspect", workspaces.Resolve(h.serveIntrospect, endpoint.WriteJSONError))
	mux.HandleFunc("/w/{ws}/oauth2/introspect", endpoint.MethodNotAllowed)
	mux.Handle("POST /w/{ws}/oauth2/revoke", workspaces.Resolve(h.serveRevoke, endpoint.WriteJSONError))
	mux.HandleFunc("/w/{ws}/oauth2/revoke", endpoint.MethodNotAllowed)
}

// call is one authenticated request to either endpoint.
type call struct {
	ws     storage.Workspace
	issuer string
	form   url.Values
	caller storage.Client
	token  string
	// introspection: the caller must authenticate with credentials
	// (RFC 7662 §2.1); revocation also serves public clients (RFC 7009
	// §2.1, §5).
	introspection bool
}

// begin runs the shared front of both pipelines after the resolved
// workspace: form, client authentication (I1), rate limit, and the
// required token parameter.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	c.ws, _ = endpoint.WorkspaceFromContext(ctx)
	c.issuer = endpoint.IssuerFromContext(ctx)
	var err error
	if c.form, err = endpoint.ParseForm(w, r, endpoint.TokenForm); err != nil {
		return err
	}
	if err := h.authenticate(ctx, r, c); err != nil {
		return err
	}
	if err := h.limit(c); err != nil {
		return err
	}
	// RFC 7662 §2.1, RFC 7009 §2.1: token is REQUIRED.
	if c.token = c.form.Get("token"); c.token == "" {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "token is required")
	}
	return nil
}

// authenticate uses the same client authentication as the token endpoint
// (SECURITY.md B11). Assertions may name the issuer, the token endpoint URL
// or the URL of this endpoint as audience (RFC 7523 §3 item 3): client
// libraries address them to the endpoint they call.
func (h *Handler) authenticate(ctx context.Context, r *http.Request, c *call) error {
	res, err := h.Auth.Authenticate(ctx, clientauth.Request{
		Workspace:     c.ws,
		Issuer:        c.issuer,
		TokenEndpoint: endpoint.TokenEndpoint(c.issuer),
		Endpoint:      c.issuer + "/oauth2/" + path.Base(r.URL.Path),
		Form:          c.form,
		Authorization: r.Header.Get("Authorization"),
	}, endpoint.RemoteIP(r))
	if err != nil {
		return err
	}
	if !res.Client.Enabled || res.Client.WorkspaceID != c.ws.ID {
		return oauth2.NewError(oauth2.ErrInvalidClient, "client authentication failed")
	}
	if c.introspection && res.Method == oauth2.AuthNone {
		return errPublicIntrospection()
	}
	c.caller = res.Client
	return nil
}

// errPublicIntrospection refuses a public client at the introspection
// endpoint. RFC 7662 §2.1: the endpoint "MUST also require some form of
// authorization", and a client_id alone authorizes nothing: whoever held a
// stolen refresh token could otherwise learn, without using it (and so
// without tripping reuse detection), whether it is live and what it
// grants (SECURITY.md I1, I3). Revocation stays open to public clients.
func errPublicIntrospection() error {
	return oauth2.NewError(oauth2.ErrInvalidClient,
		"public clients cannot use the introspection endpoint: it requires client authentication (RFC 7662 section 2.1)")
}

func (h *Handler) limit(c *call) error {
	if h.Limiter == nil {
		return nil
	}
	ok, retry := h.Limiter.Allow("introspect:" + c.ws.ID + "/" + c.caller.ID)
	if ok {
		return nil
	}
	return &oauth2.Error{
		Code:        oauth2.ErrSlowDown,
		Description: "too many requests",
		RetryAfter:  int(math.Max(1, math.Ceil(retry.Seconds()))),
	}
}

// verify checks the signature, typ, issuer and expiry of raw against the
// workspace's keys (an opaque token: its stored row, opaque.go). ok is false for every token that is not a live access
// token of this workspace; err is set only when the keys are unavailable.
func (h *Handler) verify(ctx context.Context, c *call) (at tokens.AccessToken, ok bool, err error) {
	if tokens.IsOpaque(c.token) {
		return h.resolveOpaque(ctx, c)
	}
	keys, err := h.Keys.PublicKeys(ctx, c.ws.ID)
	if err != nil {
		return tokens.AccessToken{}, false, endpoint.ErrUnavailable(err)
	}
	now := h.now()
	key := cacheKey(c.ws.ID, c.token)
	if at, ok := h.verified.get(key, keys, now); ok {
		return at, true, nil
	}
	at, err = tokens.Verify(c.token, keys, c.issuer, now)
	if err != nil || at.JTI == "" || at.ClientID == "" {
		return tokens.AccessToken{}, false, nil
	}
	h.verified.put(key, keySetID(keys), at)
	return at, true, nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, msg string, c *call, err error) {
	e := oauth2.AsError(err)
	if !endpoint.Logged(err) { // a client authentication failure, logged by clientauth
		endpoint.LogFailure(r.Context(), h.Logger, msg, e,
			slog.String("workspace", c.ws.ID),
			slog.String("client_id", c.caller.ID))
	}
	oauth2.WriteError(w, e)
}

func (h *Handler) debug(r *http.Request, msg string, c *call, attrs ...slog.Attr) {
	if h.Logger == nil {
		return
	}
	attrs = append(attrs,
		slog.String("request_id", endpoint.RequestID(r)),
		slog.String("workspace", c.ws.ID),
		slog.String("client_id", c.caller.ID))
	h.Logger.LogAttrs(r.Context(), slog.LevelDebug, msg, attrs...)
}
