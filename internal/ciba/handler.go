package ciba

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/clientauth"
	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/ratelimit"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// Error codes of the backchannel authentication endpoint (CIBA Core §13)
// that RFC 6749 does not define.
const (
	ErrUnknownUserID           oauth2.ErrorCode = "unknown_user_id"
	ErrInvalidBindingMessage   oauth2.ErrorCode = "invalid_binding_message"
	maxBindingMessageLength                     = 64
	maxNotificationTokenLength                  = 1024
	maxLoginHintLength                          = 254
)

// Lifetimes and polling of a request (CIBA Core §7.3).
const (
	// DefaultLifetime is expires_in without requested_expiry.
	DefaultLifetime = 10 * time.Minute
	// MaxLifetime bounds requested_expiry: 15 minutes, as every other
	// pending user authorization (SECURITY.md V1).
	MaxLifetime = 15 * time.Minute
	// DefaultInterval is the minimum polling interval (§7.3 "If no value
	// is provided, clients MUST use 5 as the default value").
	DefaultInterval = 5 * time.Second
)

// Authenticator authenticates the client like the token endpoint
// (*clientauth.Authenticator).
type Authenticator interface {
	Authenticate(ctx context.Context, r clientauth.Request, remoteIP string) (clientauth.Result, error)
}

// KeySource publishes a workspace's verification keys (id_token_hint).
type KeySource interface {
	PublicKeys(ctx context.Context, wsID string) (jose.JSONWebKeySet, error)
}

// Mailer sends the approval link (*mail.Outbox).
type Mailer interface {
	SendMail(ctx context.Context, to, subject, body string) error
}

// Store is what the endpoint and the approval page need from storage.
type Store interface {
	endpoint.WorkspaceStore
	GetClient(ctx context.Context, workspaceID, id string) (storage.Client, error)
	ListScopes(ctx context.Context, workspaceID string) ([]storage.ScopeRef, error)
	GetUser(ctx context.Context, workspaceID, id string) (storage.User, error)
	GetUserByUsername(ctx context.Context, workspaceID, username string) (storage.User, error)
	GetUserByEmail(ctx context.Context, workspaceID, email string) (storage.User, error)
	CreateCIBARequest(ctx context.Context, r storage.CIBARequest) error
	GetCIBARequest(ctx context.Context, workspaceID string, hash []byte) (storage.CIBARequest, error)
	ListPendingCIBARequests(ctx context.Context, workspaceID, userID string, now time.Time) ([]storage.CIBARequest, error)
	UseCIBALink(ctx context.Context, workspaceID string, linkHash []byte, now time.Time) (storage.CIBARequest, error)
	DecideCIBARequest(ctx context.Context, workspaceID string, hash []byte, now time.Time, d storage.DeviceDecision) error
}

// The production implementations.
var (
	_ Store         = storage.Storage(nil)
	_ Authenticator = (*clientauth.Authenticator)(nil)
)

// Handler serves the backchannel authentication endpoint and the approval
// page.
type Handler struct {
	Store    Store
	Auth     Authenticator
	Keys     KeySource
	Sessions *webui.Sessions
	BaseURL  string
	Now      func() time.Time
	Logger   *slog.Logger
	// Policies evaluates the user and access policies at approval; nil
	// checks none.
	Policies policy.Checker
	// Mailer sends the one-time approval link; nil sends none.
	Mailer Mailer
	// Notifier is the SSRF-safe client of ping notifications
	// (ssrf.NewClient); nil sends none.
	Notifier *http.Client
	// Sealer seals a ping-mode request's auth_req_id and notification
	// token until the notification is sent; ping mode needs it.
	Sealer Sealer
	// Interval overrides DefaultInterval when > 0.
	Interval time.Duration
	// PerClient bounds each client's requests (default 1 per second,
	// burst 20) and PerUser the requests for each user from all clients
	// (default 5, then 1 per 12 s): nobody is sent a stream of prompts
	// (CIBA Core §14, push-notification fatigue). Both are per process.
	PerClient *ratelimit.Limiter
	PerUser   *ratelimit.Limiter
}

// Mount registers POST /w/{ws}/oauth2/bc-authorize (JSON errors) and GET
// and POST /w/{ws}/ciba, the approval page (page errors).
func (h *Handler) Mount(mux *http.ServeMux) {
	if h.PerClient == nil {
		h.PerClient = ratelimit.New(1, 20, h.Now)
	}
	if h.PerUser == nil {
		h.PerUser = ratelimit.New(1.0/12, 5, h.Now)
	}
	workspaces := endpoint.Workspaces{Store: h.Store, BaseURL: h.BaseURL, Logger: h.Logger}
	mux.Handle("POST /w/{ws}/oauth2/bc-authorize", workspaces.Resolve(h.serveAuthorize, endpoint.WriteJSONError))
	mux.HandleFunc("/w/{ws}/oauth2/bc-authorize", endpoint.MethodNotAllowed)
	pageErrors := endpoint.PageErrors(h.BaseURL, h.Logger)
	mux.Handle("GET /w/{ws}/ciba", workspaces.Resolve(h.servePage, pageErrors))
	mux.Handle("POST /w/{ws}/ciba", workspaces.Resolve(h.servePost, pageErrors))
}

// Endpoint is the backchannel authentication endpoint of an issuer
// (CIBA Core §4 backchannel_authentication_endpoint).
func Endpoint(issuer string) string { return issuer + "/oauth2/bc-authorize" }

// PagePath is the approval page of an issuer.
func PagePath(issuer string) string { return issuer + "/ciba" }

// authenticationResponse is the successful response of §7.3.
type authenticationResponse struct {
	AuthReqID string `json:"auth_req_id"`
	ExpiresIn int64  `json:"expires_in"`
	Interval  int64  `json:"interval"`
}

// serveAuthorize implements the authentication request (CIBA Core §7.1)
// with the validation of §7.2 and the errors of §13.
func (h *Handler) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ws, _ := endpoint.WorkspaceFromContext(ctx)
	issuer := endpoint.IssuerFromContext(ctx)
	var clientID string
	resp, err := h.authorize(w, r, ws, issuer, &clientID)
	if err != nil {
		e := oauth2.AsError(err)
		if !endpoint.Logged(err) { // a client authentication failure, logged by clientauth
			endpoint.LogFailure(ctx, h.Logger, "backchannel authentication request failed", e,
				slog.String("workspace", ws.ID), slog.String("client_id", clientID))
		}
		oauth2.WriteError(w, e)
		return
	}
	oauth2.WriteJSON(w, http.StatusOK, resp)
}

// request is a validated authentication request.
type request struct {
	client   storage.Client
	user     storage.User
	scopes   []string
	binding  string
	token    string
	lifetime time.Duration
}

func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, ws storage.Workspace, issuer string, clientID *string) (*authenticationResponse, error) {
	ctx := r.Context()
	form, err := endpoint.ParseForm(w, r, endpoint.TokenForm)
	if err != nil {
		return nil, err
	}
	// §7.1: "The Client MUST authenticate to the Backchannel
	// Authentication Endpoint using the authentication method registered
	// for its client_id", as at the token endpoint.
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
	if err := checkClient(client, res.Method); err != nil {
		return nil, err
	}
	if ok, retry := h.PerClient.Allow(ws.ID + "\x00" + client.ID); !ok {
		return nil, &oauth2.Error{Code: oauth2.ErrSlowDown, Description: "too many backchannel authentication requests from this client",
			RetryAfter: int(math.Max(1, math.Ceil(retry.Seconds())))}
	}
	req, err := h.validate(ctx, ws, issuer, client, form)
	if err != nil {
		return nil, err
	}
	// The user policy already refuses users it would refuse at approval:
	// §13 access_denied (403), before the user is bothered.
	denied, err := h.checkPolicies(ctx, ws, client, req.user, req.scopes, endpoint.RemoteIP(r))
	if err != nil {
		return nil, endpoint.ErrUnavailable(err)
	}
	if denied != nil {
		return nil, denied
	}
	if ok, retry := h.PerUser.Allow(ws.ID + "\x00" + req.user.ID); !ok {
		return nil, &oauth2.Error{Code: oauth2.ErrAccessDenied, Status: http.StatusTooManyRequests,
			Description: "too many sign-in requests for this user; try again later",
			RetryAfter:  int(math.Max(1, math.Ceil(retry.Seconds())))}
	}
	return h.create(ctx, ws, issuer, req)
}

// checkClient: the client must have the CIBA grant (which no client has
// unless an administrator adds it), a registered delivery mode, and be
// confidential (§7.1: the client authenticates; public clients cannot).
func checkClient(c storage.Client, method string) error {
	switch {
	case !slices.Contains(c.GrantTypes, oauth2.GrantCIBA):
		return oauth2.NewError(oauth2.ErrUnauthorizedClient, "the client is not allowed to use backchannel authentication")
	case c.Type != oauth2.ClientConfidential || method == oauth2.AuthNone:
		return oauth2.NewError(oauth2.ErrUnauthorizedClient, "backchannel authentication requires a confidential client")
	case c.BackchannelTokenDeliveryMode != service.CIBAModePoll && c.BackchannelTokenDeliveryMode != service.CIBAModePing:
		return oauth2.NewError(oauth2.ErrUnauthorizedClient, "the client has no backchannel token delivery mode registered")
	}
	return nil
}

// validate checks the request parameters (§7.1, §7.2).
func (h *Handler) validate(ctx context.Context, ws storage.Workspace, issuer string, client storage.Client, form map[string][]string) (*request, error) {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if get("request") != "" {
		// §7.1.1 signed requests: not offered (no
		// backchannel_authentication_request_signing_alg_values_supported).
		return nil, oauth2.NewError(oauth2.ErrInvalidRequest, "signed authentication requests (request) are not supported")
	}
	if get("user_code") != "" {
		// §7.1: backchannel_user_code_parameter_supported is false.
		return nil, oauth2.NewError(oauth2.ErrInvalidRequest, "user_code is not supported")
	}
	scopes, err := h.checkScopes(ctx, ws.ID, client, get("scope"))
	if err != nil {
		return nil, err
	}
	req := &request{client: client, scopes: scopes, lifetime: DefaultLifetime}
	if req.lifetime, err = requestedExpiry(get("requested_expiry")); err != nil {
		return nil, err
	}
	if req.binding, err = bindingMessage(get("binding_message")); err != nil {
		return nil, err
	}
	if client.BackchannelTokenDeliveryMode == service.CIBAModePing {
		// §7.1: client_notification_token is REQUIRED in ping mode.
		req.token = get("client_notification_token")
		if req.token == "" {
			return nil, oauth2.NewError(oauth2.ErrInvalidRequest, "client_notification_token is required in ping mode")
		}
		if len(req.token) > maxNotificationTokenLength || !token68(req.token) {
			return nil, oauth2.NewError(oauth2.ErrInvalidRequest, "client_notification_token must be at most 1024 characters of bearer token syntax (RFC 6750 section 2.1)")
		}
	}
	req.user, err = h.hintedUser(ctx, ws, issuer, client, get("login_hint"), get("id_token_hint"), get("login_hint_token"))
	if err != nil {
		return nil, err
	}
	return req, nil
}

// hintedUser resolves exactly one hint (§7.1) to an active user. A
// login_hint is the user's username or, failing that, e-mail address; an
// id_token_hint is an ID token this workspace issued to this client
// (expired or not), whose sub names the user in the client's subject
// format.
func (h *Handler) hintedUser(ctx context.Context, ws storage.Workspace, issuer string, client storage.Client, login, idHint, hintToken string) (storage.User, error) {
	n := 0
	for _, v := range []string{login, idHint, hintToken} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return storage.User{}, oauth2.NewError(oauth2.ErrInvalidRequest, "exactly one of login_hint, id_token_hint and login_hint_token is required")
	}
	if hintToken != "" {
		return storage.User{}, oauth2.NewError(oauth2.ErrInvalidRequest, "login_hint_token is not supported")
	}
	var user storage.User
	var err error
	if login != "" {
		if len(login) > maxLoginHintLength {
			return storage.User{}, oauth2.NewError(oauth2.ErrInvalidRequest, "login_hint is longer than 254 characters")
		}
		user, err = h.Store.GetUserByUsername(ctx, ws.ID, login)
		if errors.Is(err, storage.ErrNotFound) && strings.Contains(login, "@") {
			user, err = h.Store.GetUserByEmail(ctx, ws.ID, login)
		}
	} else {
		user, err = h.userOfIDToken(ctx, ws, issuer, client, idHint)
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return storage.User{}, errUnknownUser()
	case err != nil:
		var oe *oauth2.Error
		if errors.As(err, &oe) {
			return storage.User{}, err
		}
		return storage.User{}, endpoint.ErrUnavailable(err)
	case !user.Active || user.ServiceUser:
		return storage.User{}, errUnknownUser()
	}
	return user, nil
}

func errUnknownUser() error {
	return oauth2.NewError(ErrUnknownUserID, "the hint does not identify an active user")
}

// userOfIDToken verifies an id_token_hint (§7.1: "An ID Token previously
// issued to the Client by the OpenID Provider") and finds its user. The
// pairwise subject cannot be mapped back to a user: unknown_user_id.
func (h *Handler) userOfIDToken(ctx context.Context, ws storage.Workspace, issuer string, client storage.Client, raw string) (storage.User, error) {
	keys, err := h.Keys.PublicKeys(ctx, ws.ID)
	if err != nil {
		return storage.User{}, err
	}
	hint, err := oidc.VerifyHint(raw, keys, issuer)
	if err != nil || !slices.Contains(hint.Audience, client.ID) {
		return storage.User{}, oauth2.NewError(oauth2.ErrInvalidRequest, "id_token_hint is not an ID token issued to this client")
	}
	switch client.EffectiveSubjectFormat() {
	case storage.SubjectFormatUsername:
		return h.Store.GetUserByUsername(ctx, ws.ID, hint.Subject)
	case storage.SubjectFormatEmail:
		return h.Store.GetUserByEmail(ctx, ws.ID, hint.Subject)
	case storage.SubjectFormatPairwise:
		return storage.User{}, storage.ErrNotFound
	}
	return h.Store.GetUser(ctx, ws.ID, hint.Subject)
}

// requestedExpiry is §7.1 requested_expiry: a positive integer of
// seconds; more than MaxLifetime is lowered to it, and the response's
// expires_in says so (§7.3).
func requestedExpiry(raw string) (time.Duration, error) {
	if raw == "" {
		return DefaultLifetime, nil
	}
	valid := len(raw) <= 20 && strings.IndexFunc(raw, func(r rune) bool { return r < '0' || r > '9' }) < 0
	n, err := strconv.ParseUint(raw, 10, 64)
	if !valid || (err != nil && !errors.Is(err, strconv.ErrRange)) || n == 0 {
		return 0, oauth2.NewError(oauth2.ErrInvalidRequest, "requested_expiry must be a positive whole number of seconds")
	}
	if err != nil || n > uint64(MaxLifetime/time.Second) {
		return MaxLifetime, nil
	}
	return time.Duration(n) * time.Second, nil
}

// bindingMessage is §7.1 binding_message: shown on both devices, so
// "relatively short and use a limited set of plain text characters";
// Latchkey accepts up to 64 printable characters (no control or format
// characters, no line breaks).
func bindingMessage(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	if !utf8.ValidString(raw) || utf8.RuneCountInString(raw) > maxBindingMessageLength ||
		strings.IndexFunc(raw, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 || strings.TrimSpace(raw) == "" {
		return "", oauth2.NewError(ErrInvalidBindingMessage, "binding_message must be 1 to 64 printable characters")
	}
	return raw, nil
}

// token68 is the b64token syntax of a bearer token (RFC 6750 §2.1).
func token68(s string) bool {
	end := len(s)
	for end > 0 && s[end-1] == '=' {
		end--
	}
	if end == 0 {
		return false
	}
	for i := 0; i < end; i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return false
		}
	}
	return true
}

// checkScopes: scope must include openid (§7.1); every other scope is a
// standard OpenID scope or a workspace scope allowed to the client (RFC
// 6749 §3.3 invalid_scope); offline_access is dropped when the client
// may not use refresh tokens (OIDC Core §11).
func (h *Handler) checkScopes(ctx context.Context, wsID string, client storage.Client, raw string) ([]string, error) {
	fields := strings.Fields(raw)
	if !slices.Contains(fields, oidc.ScopeOpenID) {
		return nil, oauth2.NewError(oauth2.ErrInvalidRequest, "scope must include openid (CIBA Core section 7.1)")
	}
	catalog, err := storage.IndexScopes(ctx, h.Store, wsID)
	if err != nil {
		return nil, endpoint.ErrUnavailable(err)
	}
	var out []string
	for _, s := range fields {
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

func scopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// create stores the request (only the SHA-256 of auth_req_id and of the
// link token; 256 random bits each), mails the user the approval link
// and answers §7.3.
func (h *Handler) create(ctx context.Context, ws storage.Workspace, issuer string, req *request) (*authenticationResponse, error) {
	now := h.now()
	id := grants.CIBARequestIDPrefix + webui.RandomValue()
	link := webui.RandomValue()
	rec := storage.CIBARequest{
		WorkspaceID: ws.ID, Hash: webui.Hash(id), LinkHash: webui.Hash(link), ClientID: req.client.ID, UserID: req.user.ID,
		Scopes: req.scopes, BindingMessage: req.binding, DeliveryMode: req.client.BackchannelTokenDeliveryMode,
		NotificationEndpoint: req.client.BackchannelClientNotificationEndpoint,
		Interval:             h.interval(), CreatedAt: now, ExpiresAt: now.Add(req.lifetime),
	}
	if rec.DeliveryMode == service.CIBAModePing {
		sealed, err := h.sealPing(ws.ID, rec.Hash, id, req.token)
		if err != nil {
			return nil, endpoint.ErrUnavailable(err)
		}
		rec.PingSecret = sealed
	}
	if err := h.Store.CreateCIBARequest(ctx, rec); err != nil {
		return nil, endpoint.ErrUnavailable(err)
	}
	h.mailLink(ctx, ws, issuer, req, link)
	if h.Logger != nil {
		h.Logger.InfoContext(ctx, "backchannel authentication request created", "workspace", ws.ID,
			"client_id", req.client.ID, "user_id", req.user.ID, "mode", rec.DeliveryMode)
	}
	return &authenticationResponse{AuthReqID: id, ExpiresIn: int64(req.lifetime / time.Second), Interval: int64(h.interval() / time.Second)}, nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

func (h *Handler) interval() time.Duration {
	if h.Interval > 0 {
		return h.Interval
	}
	return DefaultInterval
}
