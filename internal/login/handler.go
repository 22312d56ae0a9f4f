package login

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// AccountStore is what the sign-in, account and set-password pages need
// from storage: the workspace, users and their passwords, set-password
// links, the pending request and its client, consents, token families,
// browser sessions and the sign-in counters.
type AccountStore interface {
	endpoint.WorkspaceStore
	CounterStore
	GetUserByUsername(ctx context.Context, workspaceID, username string) (storage.User, error)
	GetUserByEmail(ctx context.Context, workspaceID, email string) (storage.User, error)
	GetUserPassword(ctx context.Context, workspaceID, userID string) (storage.UserPassword, error)
	SetUserPassword(ctx context.Context, p storage.UserPassword) error
	// ConsumePasswordToken spends a set-password link exactly once.
	ConsumePasswordToken(ctx context.Context, workspaceID string, hash []byte, now time.Time) (storage.PasswordToken, error)
	GetAuthRequest(ctx context.Context, workspaceID, id string, now time.Time) (storage.AuthRequest, error)
	GetClient(ctx context.Context, workspaceID, id string) (storage.Client, error)
	ListConsents(ctx context.Context, workspaceID, userID string) ([]storage.Consent, error)
	DeleteConsent(ctx context.Context, workspaceID, userID, clientID string) error
	// RevokeTokenFamilies ends a user's grants, of one client or ("") all.
	RevokeTokenFamilies(ctx context.Context, workspaceID, userID, clientID string, now time.Time) (int64, error)
	// DeleteUserBrowserSessions signs a user out everywhere.
	DeleteUserBrowserSessions(ctx context.Context, workspaceID, userID string) (int64, error)
}

// The production implementation.
var _ AccountStore = storage.Storage(nil)

// Handler serves the sign-in, account and set-password pages.
type Handler struct {
	Store    AccountStore
	Sessions *webui.Sessions
	BaseURL  string
	Now      func() time.Time
	Logger   *slog.Logger
	// AccountPolicy, IPPolicy and DevicePolicy override the default
	// failure budgets when their Free is > 0.
	AccountPolicy Policy
	IPPolicy      Policy
	DevicePolicy  Policy
	// Devices seals device cookies (docs/security.md R10); nil issues
	// none, and every browser is counted as unknown.
	Devices DeviceSealer
	// PendingRequests lists the user's pending backchannel authentication
	// requests for the account page (ciba.Handler.PendingFor, rendered by
	// the "ciba-requests" template); nil shows none.
	PendingRequests func(w http.ResponseWriter, r *http.Request, wsID, userID string) (any, error)

	gates gates // attempts in flight per counter
}

// Mount registers the pages behind workspace resolution, whose failures
// are pages: 404 for an unknown workspace, 503 when storage fails.
func (h *Handler) Mount(mux *http.ServeMux) {
	workspaces := endpoint.Workspaces{Store: h.Store, BaseURL: h.BaseURL, Logger: h.Logger}
	pageErrors := endpoint.PageErrors(h.BaseURL, h.Logger)
	route := func(pattern string, serve http.HandlerFunc) {
		mux.Handle(pattern, workspaces.Resolve(serve, pageErrors))
	}
	route("GET /w/{ws}/login", h.serveLoginPage)
	route("POST /w/{ws}/login", h.serveLoginPost)
	route("GET /w/{ws}/account", h.serveAccount)
	route("POST /w/{ws}/account", h.serveAccountPost)
	route("GET /w/{ws}/password/set", h.servePasswordPage)
	route("POST /w/{ws}/password/set", h.servePasswordPost)
}

// maxForm caps the body of every form of this package.
const maxForm = 16 << 10

// Password length bounds: NIST SP 800-63B §5.1.1.2 minimum of 8; the
// maximum only bounds the hashing work per request.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

// page is one request: the workspace and the page scaffolding.
type page struct {
	ws     storage.Workspace
	issuer string
	p      webui.Page
}

// begin starts serving the workspace endpoint.Workspaces resolved; false,
// after a 404, when the route was mounted without it.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request) (*page, bool) {
	ws, ok := endpoint.WorkspaceFromContext(r.Context())
	if !ok {
		endpoint.PageErrors(h.BaseURL, h.Logger)(w, r, endpoint.ErrUnknownWorkspace())
		return nil, false
	}
	issuer := endpoint.IssuerFromContext(r.Context())
	return &page{ws: ws, issuer: issuer, p: webui.Page{
		Localizer: webui.ChooseLanguage(nil, r), Brand: webui.BrandOf(ws), Issuer: issuer, AssetBase: h.BaseURL,
	}}, true
}

// parseForm reads a POSTed form with the size cap; false when it has
// answered.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request, pg *page) (url.Values, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, pg, http.StatusBadRequest, "invalid_request", "malformed form")
		return nil, false
	}
	for _, vals := range r.PostForm {
		if len(vals) > 1 {
			h.errorPage(w, pg, http.StatusBadRequest, "invalid_request", "a field is repeated")
			return nil, false
		}
	}
	return r.PostForm, true
}

func (h *Handler) errorPage(w http.ResponseWriter, pg *page, status int, code, desc string) {
	pg.p.Title = pg.p.T("error_title")
	pg.p.Data = webui.ErrorData{Code: code, Description: desc}
	webui.Render(w, h.Logger, status, "error", pg.p)
}

// forbidden answers a form without a valid CSRF token (SECURITY.md K1).
func (h *Handler) forbidden(w http.ResponseWriter, pg *page) {
	h.errorPage(w, pg, http.StatusForbidden, "access_denied", pg.p.T("forbidden"))
}

// unavailable answers a storage failure: the error page with 503 and
// Retry-After (docs/security.md R5), logged once.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, pg *page, err error) {
	e := endpoint.ErrUnavailable(err)
	endpoint.LogFailure(r.Context(), h.Logger, "sign-in page failed", e, slog.String("workspace", pg.ws.ID))
	w.Header().Set("Retry-After", strconv.Itoa(oauth2.DefaultRetryAfterSeconds))
	h.errorPage(w, pg, e.HTTPStatus(), string(e.Code), e.Description)
}

func seeOther(w http.ResponseWriter, target string) {
	webui.SetPageHeaders(w)
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusSeeOther)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

func (h *Handler) counters() counters {
	return counters{store: h.Store, gates: &h.gates, now: h.now}
}

func policyOr(p, def Policy) Policy {
	if p.Free > 0 {
		return p
	}
	return def
}

func (h *Handler) accountPolicy() Policy { return policyOr(h.AccountPolicy, DefaultAccountPolicy) }
func (h *Handler) ipPolicy() Policy      { return policyOr(h.IPPolicy, DefaultIPPolicy) }
func (h *Handler) devicePolicy() Policy  { return policyOr(h.DevicePolicy, DefaultDevicePolicy) }

func retryAfter(d time.Duration) string {
	return strconv.Itoa(int(math.Max(1, math.Ceil(d.Seconds()))))
}

// findUser resolves what was typed in the username field: a username,
// or an e-mail address.
func (h *Handler) findUser(ctx context.Context, wsID, name string) (storage.User, bool, error) {
	u, err := h.Store.GetUserByUsername(ctx, wsID, name)
	if errors.Is(err, storage.ErrNotFound) && strings.Contains(name, "@") {
		u, err = h.Store.GetUserByEmail(ctx, wsID, name)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, false, nil
	}
	return u, err == nil, err
}

// checkPassword verifies password for user, spending the same argon2id
// work when there is no user or no password (SECURITY.md K8).
func (h *Handler) checkPassword(ctx context.Context, u storage.User, found bool, password string) (bool, error) {
	hash := service.DummyPasswordHash()
	if found {
		p, err := h.Store.GetUserPassword(ctx, u.WorkspaceID, u.ID)
		switch {
		case err == nil:
			hash = p.Hash
		case !errors.Is(err, storage.ErrNotFound):
			return false, err
		default:
			found = false
		}
	}
	ok := service.VerifyPassword(hash, password)
	return ok && found && u.Active && !u.ServiceUser, nil
}

// validNewPassword returns the message id of what is wrong with a new
// password, "" when it is acceptable.
func validNewPassword(pw, confirm string) string {
	switch {
	case len(pw) < MinPasswordLen:
		return "password_too_short"
	case len(pw) > MaxPasswordLen:
		return "password_too_long"
	case pw != confirm:
		return "passwords_differ"
	}
	return ""
}
