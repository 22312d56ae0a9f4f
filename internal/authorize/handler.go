package authorize

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/dpop"
	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// Lifetimes.
const (
	// DefaultCodeTTL is the authorization code lifetime (FAPI 2.0 Security
	// Profile §5.3.2.1 item 11, "a maximum lifetime of 60 seconds";
	// SECURITY.md G5).
	DefaultCodeTTL = 60 * time.Second
	// DefaultRequestTTL is how long a pending request waits for sign-in
	// and consent.
	DefaultRequestTTL = 15 * time.Minute
)

// KeySource returns a workspace's published keys (*signing.Manager).
type KeySource interface {
	PublicKeys(ctx context.Context, wsID string) (jose.JSONWebKeySet, error)
}

// RequestStore is what the authorization endpoint and the consent page
// need from storage: the workspace, its clients, scopes and services, the
// pending requests, the codes they end in, and users' consents.
type RequestStore interface {
	endpoint.WorkspaceStore
	GetClient(ctx context.Context, workspaceID, id string) (storage.Client, error)
	ListScopes(ctx context.Context, workspaceID string) ([]storage.ScopeRef, error)
	// GetService names a scope's service on the consent page.
	GetService(ctx context.Context, workspaceID, id string) (storage.Service, error)
	CreateAuthRequest(ctx context.Context, r storage.AuthRequest) error
	GetAuthRequest(ctx context.Context, workspaceID, id string, now time.Time) (storage.AuthRequest, error)
	// DeleteAuthRequest is the single-use gate of a pending request.
	DeleteAuthRequest(ctx context.Context, workspaceID, id string) error
	CreateAuthCode(ctx context.Context, c storage.AuthCode) error
	GetConsent(ctx context.Context, workspaceID, userID, clientID string) (storage.Consent, error)
	PutConsent(ctx context.Context, c storage.Consent) error
	// UseJTI spends request object jti values (jar.go), and the pushed
	// requests are PAR's (par.go).
	UseJTI(ctx context.Context, j storage.JTI) error
	storage.PushedRequests
}

// The production implementation.
var _ RequestStore = storage.Storage(nil)

// Handler serves the authorization endpoint and the consent page.
type Handler struct {
	Store    RequestStore // the cached store
	Keys     KeySource
	Sessions *webui.Sessions
	Subjects *oidc.Subjects
	BaseURL  string
	Now      func() time.Time
	Logger   *slog.Logger
	// CodeTTL and RequestTTL override the defaults when > 0.
	CodeTTL    time.Duration
	RequestTTL time.Duration
	// Policies evaluates user policies after sign-in (policy.go); nil
	// checks none.
	Policies policy.Checker
	// ClientKeys verifies request objects and finds the keys encrypted
	// responses go to (jar.go, jarm.go); nil refuses request objects with
	// request_not_supported.
	ClientKeys ClientKeys
	// Auth authenticates clients at the PAR endpoint (par.go); nil leaves
	// the PAR endpoint unmounted.
	Auth Authenticator
	// DPoP checks a DPoP proof sent to the PAR endpoint (dpop.go, RFC 9449
	// §10.1); nil ignores the DPoP header there.
	DPoP *dpop.Verifier
	// Signers signs JWT-secured authorization responses (jarm.go).
	Signers SignerSource
	// Decrypter opens encrypted request objects (jwe.go); nil refuses them.
	Decrypter RequestObjectDecrypter
	// PushedRequestTTL overrides DefaultPushedRequestTTL when in (0, 600 s].
	PushedRequestTTL time.Duration
}

// Mount registers the endpoints behind workspace resolution, whose
// failures are pages: 404 for an unknown workspace, 503 when storage
// fails.
func (h *Handler) Mount(mux *http.ServeMux) {
	workspaces := endpoint.Workspaces{Store: h.Store, BaseURL: h.BaseURL, Logger: h.Logger}
	pageErrors := endpoint.PageErrors(h.BaseURL, h.Logger)
	mux.Handle("GET /w/{ws}/oauth2/authorize", workspaces.Resolve(h.serveAuthorize, pageErrors))
	mux.Handle("POST /w/{ws}/oauth2/authorize", workspaces.Resolve(h.serveAuthorize, pageErrors))
	mux.Handle("GET /w/{ws}/consent", workspaces.Resolve(h.serveConsentPage, pageErrors))
	mux.Handle("POST /w/{ws}/consent", workspaces.Resolve(h.serveConsentPost, pageErrors))
	if h.Auth != nil {
		// RFC 9126 §2: POST only; other methods 405 (SECURITY.md Q1).
		mux.Handle("POST /w/{ws}"+PAREndpoint, workspaces.Resolve(h.servePAR, endpoint.WriteJSONError))
		mux.HandleFunc("/w/{ws}"+PAREndpoint, endpoint.MethodNotAllowed)
	}
}

// flow is one request being served: the workspace, its issuer and the page
// scaffolding for whatever is rendered.
type flow struct {
	ws     storage.Workspace
	issuer string
	page   webui.Page
}

// begin starts serving the workspace endpoint.Workspaces resolved; false,
// after a 404, when the route was mounted without it.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request, uiLocales []string) (*flow, bool) {
	ws, ok := endpoint.WorkspaceFromContext(r.Context())
	if !ok {
		endpoint.PageErrors(h.BaseURL, h.Logger)(w, r, endpoint.ErrUnknownWorkspace())
		return nil, false
	}
	issuer := endpoint.IssuerFromContext(r.Context())
	return &flow{ws: ws, issuer: issuer, page: webui.Page{
		Localizer: webui.ChooseLanguage(uiLocales, r), Brand: webui.BrandOf(ws), Issuer: issuer, AssetBase: h.BaseURL,
	}}, true
}

func (h *Handler) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	f, ok := h.begin(w, r, nil)
	if !ok {
		return
	}
	params, err := readParams(w, r)
	if err != nil {
		h.fail(w, r, f, nil, err)
		return
	}
	f.page.Localizer = webui.ChooseLanguage(splitSpaces(params.Get("ui_locales")), r)
	v, err := h.validate(r.Context(), f, params)
	if err != nil {
		h.fail(w, r, f, v, err)
		return
	}
	v.req.BrowserHash = webui.Hash(h.Sessions.BrowserSecret(w, r))
	if err := h.Store.CreateAuthRequest(r.Context(), v.req); err != nil {
		h.fail(w, r, f, nil, unavailable(err))
		return
	}
	h.proceed(w, r, f, v, false)
}

// fail answers an error: on our error page while the redirect URI is not
// trusted (v == nil or an errPage), else redirected to the client.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, f *flow, v *validated, err error) {
	var pe errPage
	if errors.As(err, &pe) || v == nil {
		e := oauth2.AsError(err)
		if errors.As(err, &pe) {
			e = pe.e
		}
		h.logFailure(r, f, e)
		h.errorPage(w, f, e)
		return
	}
	e := oauth2.AsError(err)
	h.logFailure(r, f, e)
	h.respond(w, r, f, v, errorParams(e, v.req.State, f.issuer))
}

// errorPage renders the error page (docs/authorization-flow.md): 400, or
// 503 when storage failed. Internal detail never reaches it.
func (h *Handler) errorPage(w http.ResponseWriter, f *flow, e *oauth2.Error) {
	status := http.StatusBadRequest
	if e.Code == oauth2.ErrTemporarilyUnavailable || e.Code == oauth2.ErrServerError {
		status = e.HTTPStatus()
	}
	if e.Status == http.StatusForbidden {
		status = http.StatusForbidden
	}
	f.page.Title = f.page.T("error_title")
	f.page.Data = webui.ErrorData{Code: string(e.Code), Description: e.Description}
	webui.Render(w, h.Logger, status, "error", f.page)
}

func (h *Handler) logFailure(r *http.Request, f *flow, e *oauth2.Error) {
	endpoint.LogFailure(r.Context(), h.Logger, "authorization request failed", e, slog.String("workspace", f.ws.ID))
}

// unavailable is the 503 of a storage or key failure.
func unavailable(cause error) error { return endpoint.ErrUnavailable(cause) }

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

func (h *Handler) codeTTL() time.Duration {
	if h.CodeTTL > 0 {
		return h.CodeTTL
	}
	return DefaultCodeTTL
}

func (h *Handler) requestTTL() time.Duration {
	if h.RequestTTL > 0 {
		return h.RequestTTL
	}
	return DefaultRequestTTL
}
