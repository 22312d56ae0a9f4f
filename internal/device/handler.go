package device

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/clientauth"
	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// Defaults of the device authorization response (RFC 8628 §3.2).
const (
	// DefaultLifetime is expires_in: ten minutes, within the 15 minutes of
	// SECURITY.md V1.
	DefaultLifetime = 10 * time.Minute
	// DefaultInterval is the polling interval (§3.2 default of 5 s).
	DefaultInterval = 5 * time.Second
)

// Authenticator authenticates the client of a device authorization
// request like the token endpoint does (*clientauth.Authenticator).
type Authenticator interface {
	Authenticate(ctx context.Context, r clientauth.Request, remoteIP string) (clientauth.Result, error)
}

// Store is what the endpoint and the page need from storage: the
// workspace, its clients, scopes and services, and device authorizations.
type Store interface {
	endpoint.WorkspaceStore
	GetClient(ctx context.Context, workspaceID, id string) (storage.Client, error)
	ListScopes(ctx context.Context, workspaceID string) ([]storage.ScopeRef, error)
	GetService(ctx context.Context, workspaceID, id string) (storage.Service, error)
	CreateDeviceCode(ctx context.Context, d storage.DeviceCode) error
	GetDeviceCodeByUserCode(ctx context.Context, workspaceID string, userCodeHash []byte, now time.Time) (storage.DeviceCode, error)
	DecideDeviceCode(ctx context.Context, workspaceID string, hash []byte, now time.Time, d storage.DeviceDecision) error
}

// The production implementations.
var (
	_ Store         = storage.Storage(nil)
	_ Authenticator = (*clientauth.Authenticator)(nil)
)

// Handler serves the device authorization endpoint and the device page.
type Handler struct {
	Store    Store // the cached store
	Auth     Authenticator
	Sessions *webui.Sessions
	BaseURL  string
	Now      func() time.Time
	Logger   *slog.Logger
	// Policies evaluates the user and access policies at approval; nil
	// checks none.
	Policies policy.Checker
	// Lifetime and Interval override the defaults when > 0.
	Lifetime time.Duration
	Interval time.Duration
	// Limits are the user-code entry budgets; zero fields take the
	// defaults (limits.go).
	Limits Limits

	limiters limiters
}

// Mount registers POST /w/{ws}/oauth2/device_authorization (JSON errors)
// and GET and POST /w/{ws}/device (page errors) behind workspace
// resolution.
func (h *Handler) Mount(mux *http.ServeMux) {
	h.limiters = newLimiters(h.Limits, h.Now)
	workspaces := endpoint.Workspaces{Store: h.Store, BaseURL: h.BaseURL, Logger: h.Logger}
	mux.Handle("POST /w/{ws}/oauth2/device_authorization", workspaces.Resolve(h.serveAuthorization, endpoint.WriteJSONError))
	mux.HandleFunc("/w/{ws}/oauth2/device_authorization", endpoint.MethodNotAllowed)
	pageErrors := endpoint.PageErrors(h.BaseURL, h.Logger)
	mux.Handle("GET /w/{ws}/device", workspaces.Resolve(h.servePage, pageErrors))
	mux.Handle("POST /w/{ws}/device", workspaces.Resolve(h.servePost, pageErrors))
}

// Endpoint is the device authorization endpoint of an issuer.
func Endpoint(issuer string) string { return issuer + "/oauth2/device_authorization" }

// VerificationURI is the device page of an issuer (RFC 8628 §3.2).
func VerificationURI(issuer string) string { return issuer + "/device" }

// authorizationResponse is the RFC 8628 §3.2 response.
type authorizationResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// serveAuthorization implements the device authorization request
// (RFC 8628 §3.1): the client authenticates as at the token endpoint
// (public clients with "none"), must be allowed the device_code grant and
// the requested scopes, and gets a device code and a user code (§3.2).
// Errors are those of RFC 6749 §5.2 (§3.2: "the authorization server
// responds with an error response as defined in Section 5.2 of RFC6749").
func (h *Handler) serveAuthorization(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ws, _ := endpoint.WorkspaceFromContext(ctx)
	issuer := endpoint.IssuerFromContext(ctx)
	var clientID string
	resp, err := h.authorize(w, r, ws, issuer, &clientID)
	if err != nil {
		e := oauth2.AsError(err)
		if !endpoint.Logged(err) { // a client authentication failure, logged by clientauth
			endpoint.LogFailure(ctx, h.Logger, "device authorization request failed", e,
				slog.String("workspace", ws.ID), slog.String("client_id", clientID))
		}
		oauth2.WriteError(w, e)
		return
	}
	oauth2.WriteJSON(w, http.StatusOK, resp)
}

func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, ws storage.Workspace, issuer string, clientID *string) (*authorizationResponse, error) {
	ctx := r.Context()
	form, err := endpoint.ParseForm(w, r, endpoint.TokenForm)
	if err != nil {
		return nil, err
	}
	res, err := h.Auth.Authenticate(ctx, clientauth.Request{
		Workspace: ws, Issuer: issuer, TokenEndpoint: endpoint.TokenEndpoint(issuer), Endpoint: Endpoint(issuer),
		Form: form, Authorization: r.Header.Get("Authorization"),
	}, endpoint.RemoteIP(r))
	if err != nil {
		return nil, err
	}
	client := res.Client
	*clientID = client.ID
	if !client.Enabled || client.WorkspaceID != ws.ID {
		return nil, oauth2.NewError(oauth2.ErrInvalidClient, "client authentication failed")
	}
	if !slices.Contains(client.GrantTypes, oauth2.GrantDeviceCode) {
		return nil, oauth2.NewError(oauth2.ErrUnauthorizedClient, "the client is not allowed to use the device authorization grant")
	}
	if ok, retry := h.limiters.client.Allow(ws.ID + "\x00" + client.ID); !ok {
		return nil, &oauth2.Error{Code: oauth2.ErrSlowDown, Description: "too many device authorization requests from this client",
			RetryAfter: int(math.Max(1, math.Ceil(retry.Seconds())))}
	}
	scopes, err := h.checkScopes(ctx, ws.ID, client, form.Get("scope"))
	if err != nil {
		return nil, err
	}
	return h.create(ctx, ws.ID, issuer, client.ID, scopes)
}

// checkScopes: every requested scope is a standard OpenID scope or a
// scope of the workspace allowed to the client (RFC 6749 §3.3
// invalid_scope); offline_access is dropped when the client may not use
// refresh tokens (OIDC Core §11), as at the authorization endpoint.
func (h *Handler) checkScopes(ctx context.Context, wsID string, client storage.Client, raw string) ([]string, error) {
	catalog, err := storage.IndexScopes(ctx, h.Store, wsID)
	if err != nil {
		return nil, endpoint.ErrUnavailable(err)
	}
	var out []string
	for _, s := range strings.Fields(raw) {
		switch {
		case !scopeToken(s):
			return nil, oauth2.NewError(oauth2.ErrInvalidScope, "scope contains invalid characters")
		case s == oidc.ScopeOfflineAccess && !slices.Contains(client.GrantTypes, oauth2.GrantRefreshToken):
			continue
		case slices.Contains(oidc.StandardScopes, s):
		case !catalog.Has(s) || !slices.Contains(client.Scopes, s):
			return nil, oauth2.NewError(oauth2.ErrInvalidScope, "the scope "+endpoint.Describable(s)+" is not allowed for this client")
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// scopeToken is RFC 6749 §3.3 scope-token syntax.
func scopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// maxUserCodeDraws bounds the retries when a drawn user code is in use.
const maxUserCodeDraws = 5

// create stores the authorization: the device code is 256 random bits
// (RFC 8628 §5.2, SECURITY.md V1), only its SHA-256 and that of the user
// code are stored. A user code already in use is drawn again.
func (h *Handler) create(ctx context.Context, wsID, issuer, clientID string, scopes []string) (*authorizationResponse, error) {
	now := h.now()
	deviceCode := grants.DeviceCodePrefix + webui.RandomValue()
	for range maxUserCodeDraws {
		userCode := NewUserCode()
		err := h.Store.CreateDeviceCode(ctx, storage.DeviceCode{
			WorkspaceID: wsID, Hash: webui.Hash(deviceCode), UserCodeHash: webui.Hash(userCode), ClientID: clientID,
			Scopes: scopes, Interval: h.interval(), CreatedAt: now, ExpiresAt: now.Add(h.lifetime()),
		})
		if errors.Is(err, storage.ErrAlreadyExists) {
			continue
		}
		if err != nil {
			return nil, endpoint.ErrUnavailable(err)
		}
		shown := FormatUserCode(userCode)
		return &authorizationResponse{
			DeviceCode: deviceCode, UserCode: shown, VerificationURI: VerificationURI(issuer),
			VerificationURIComplete: VerificationURI(issuer) + "?user_code=" + url.QueryEscape(shown),
			ExpiresIn:               int64(h.lifetime() / time.Second), Interval: int64(h.interval() / time.Second),
		}, nil
	}
	return nil, endpoint.ErrUnavailable(errors.New("device: no free user code"))
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

func (h *Handler) lifetime() time.Duration {
	if h.Lifetime > 0 {
		return h.Lifetime
	}
	return DefaultLifetime
}

func (h *Handler) interval() time.Duration {
	if h.Interval > 0 {
		return h.Interval
	}
	return DefaultInterval
}
