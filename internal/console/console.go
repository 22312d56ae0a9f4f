package console

import (
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/ratelimit"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// Prefix is the path of the console.
const Prefix = "/console"

// Session lifetimes.
const (
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultAbsoluteTimeout = 12 * time.Hour
	// touchEvery limits last-seen writes to one per minute per session.
	touchEvery = time.Minute
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/*
var staticFiles embed.FS

// Handler serves the console.
type Handler struct {
	Service *service.Service
	// Store holds sessions (normally the same store the service uses).
	Store storage.Storage
	// BaseURL is the public base URL (issuers, endpoint list).
	BaseURL string
	// Cookies names and flags the console's cookies from the base URL,
	// like every other cookie of the server (docs/security.md K6).
	Cookies webui.Cookies
	// Bootstrap verifies the bootstrap admin token for "create first
	// admin"; nil disables that page.
	Bootstrap func(r *http.Request, token string) bool
	// TokenFailures budgets wrong bootstrap tokens per remote address,
	// shared with the admin API (docs/security.md R8); nil uses Limiter.
	TokenFailures *ratelimit.Limiter
	// Discovery serves the workspace discovery documents (the server's
	// router); the Endpoints tab lists what it advertises.
	Discovery http.Handler
	// MailDelivers tells the Credentials tab whether codes leave the
	// server (SMTP) or wait in the outbox.
	MailDelivers bool
	// Limiter bounds sign-in attempts per IP and per account (SECURITY.md
	// K7); nil builds a default one.
	Limiter         *ratelimit.Limiter
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	Now             func() time.Time
	Logger          *slog.Logger

	pages *pages
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (h *Handler) idle() time.Duration {
	if h.IdleTimeout > 0 {
		return h.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (h *Handler) absolute() time.Duration {
	if h.AbsoluteTimeout > 0 {
		return h.AbsoluteTimeout
	}
	return DefaultAbsoluteTimeout
}

// access is what a route requires of the signed-in user.
type access int

const (
	public     access = iota // no session needed (sign-in, setup, assets)
	signedIn                 // any signed-in user
	wsRead                   // may read workspace {ws}
	wsWrite                  // may change workspace {ws}
	superAdmin               // super admins only
)

// route is one console endpoint.
type route struct {
	pattern string
	need    access
	fn      func(w http.ResponseWriter, r *http.Request, c *reqCtx)
}

func (h *Handler) routes() []route {
	const ws = Prefix + "/w/{ws}"
	const cl = ws + "/clients/{id}"
	return []route{
		{"GET " + Prefix + "/static/{file}", public, h.static},
		{"GET " + Prefix + "/{$}", public, h.home},
		{"GET " + Prefix + "/signin", public, h.signinForm},
		{"POST " + Prefix + "/signin", public, h.signin},
		{"GET " + Prefix + "/setup", public, h.setupForm},
		{"POST " + Prefix + "/setup", public, h.setup},
		{"POST " + Prefix + "/signout", signedIn, h.signout},
		{"GET " + Prefix + "/workspaces/new", superAdmin, h.newWorkspaceForm},
		{"POST " + Prefix + "/workspaces/new", superAdmin, h.createWorkspace},
		{"GET " + Prefix + "/outbox", superAdmin, h.outbox},
		{"GET " + Prefix + "/admin-tokens", superAdmin, h.adminTokens},
		{"POST " + Prefix + "/admin-tokens", superAdmin, h.createAdminToken},
		{"POST " + Prefix + "/admin-tokens/{tid}/delete", superAdmin, h.deleteAdminToken},
		{"GET " + Prefix + "/users", superAdmin, h.users},
		{"POST " + Prefix + "/users", superAdmin, h.createUser},
		{"POST " + Prefix + "/users/{uid}/delete", superAdmin, h.deleteUser},
		{"GET " + Prefix + "/users/{uid}", superAdmin, h.editUser},
		{"POST " + Prefix + "/users/{uid}", superAdmin, h.saveUser},
		{"POST " + Prefix + "/users/{uid}/password", superAdmin, h.setUserPassword},
		{"GET " + ws + "/settings", wsRead, h.settings},
		{"GET " + ws + "/export", wsRead, h.exportConfig},
		{"POST " + ws + "/settings", wsWrite, h.saveSettings},
		{"POST " + ws + "/settings/protocols", wsWrite, h.saveWorkspaceProtocols},
		{"POST " + ws + "/settings/fapi", wsWrite, h.saveWorkspaceFAPI}, // FAPI 2.0 (fapi.go)
		{"POST " + ws + "/delete", superAdmin, h.deleteWorkspace},
		{"POST " + ws + "/state/{state}", superAdmin, h.setWorkspaceEnabled},
		{"GET " + ws + "/clients", wsRead, h.clients},
		{"GET " + ws + "/clients/new", wsWrite, h.newClientForm},
		{"POST " + ws + "/clients/new", wsWrite, h.createClient},
		{"GET " + cl, wsRead, h.clientTab},
		{"GET " + cl + "/{tab}", wsRead, h.clientTab},
		{"POST " + cl + "/{tab}", wsWrite, h.saveClientTab},
		{"POST " + cl + "/action/{action}", wsWrite, h.clientAction},
		{"POST " + cl + "/certificates", wsWrite, h.addCertificate},
		{"POST " + cl + "/certificates/{kid}/delete", wsWrite, h.removeCertificate},
		{"POST " + cl + "/jwt-bearer", wsWrite, h.saveJWTBearer},
		{"POST " + cl + "/authflow", wsWrite, h.saveAuthFlow},
		{"POST " + cl + "/protocols/{section}", wsWrite, h.saveProtocolSection},
		{"GET " + cl + "/policies", wsRead, h.clientPolicies},
		{"POST " + cl + "/policies", wsWrite, h.saveClientPolicies},
		{"POST " + cl + "/claims", wsWrite, h.saveClientClaims},
		{"GET " + ws + "/policies", wsRead, h.policies},
		{"POST " + ws + "/policies/default", wsWrite, h.setDefaultPolicy},
		{"GET " + ws + "/policies/new", wsWrite, h.policyPage},
		{"POST " + ws + "/policies/new", wsWrite, h.savePolicy},
		{"GET " + ws + "/policies/{pid}", wsRead, h.policyPage},
		{"POST " + ws + "/policies/{pid}", wsWrite, h.savePolicy},
		{"POST " + ws + "/policies/{pid}/rollback", wsWrite, h.rollbackPolicy},
		{"POST " + ws + "/policies/{pid}/delete", wsWrite, h.deletePolicy},
		{"POST " + ws + "/services/{sid}/access-policy", wsWrite, h.saveAccessPolicy},
		{"POST " + ws + "/services/{sid}/claims", wsWrite, h.saveServiceClaims},
		{"POST " + ws + "/services/{sid}/authorization-details", wsWrite, h.saveServiceDetailTypes},
		{"GET " + ws + "/initial-access-tokens", wsRead, h.iats},
		{"GET " + ws + "/initial-access-tokens/new", wsWrite, h.newIATForm},
		{"POST " + ws + "/initial-access-tokens/new", wsWrite, h.createIAT},
		{"POST " + ws + "/initial-access-tokens/{tid}/delete", wsWrite, h.deleteIAT},
		{"GET " + ws + "/services", wsRead, h.services},
		{"GET " + ws + "/services/new", wsWrite, h.serviceForm},
		{"POST " + ws + "/services/new", wsWrite, h.saveService},
		{"GET " + ws + "/services/{sid}", wsRead, h.serviceForm},
		{"POST " + ws + "/services/{sid}", wsWrite, h.saveService},
		{"POST " + ws + "/services/{sid}/delete", wsWrite, h.deleteService},
		{"GET " + ws + "/keys", wsRead, h.keys},
		{"POST " + ws + "/keys/rotate", wsWrite, h.rotateKeys},
		{"POST " + ws + "/keys/{kid}/delete", wsWrite, h.removeKey},
		{"POST " + ws + "/encryption-keys/rotate", wsWrite, h.rotateEncryptionKeys},
		{"POST " + ws + "/encryption-keys/{kid}/delete", wsWrite, h.removeEncryptionKey},
		{"GET " + ws + "/audit", wsRead, h.audit},
		{"GET " + ws + "/users", wsRead, h.dirUsers},
		{"GET " + ws + "/users/new", wsWrite, h.dirUserForm},
		{"POST " + ws + "/users/new", wsWrite, h.saveDirUser},
		{"GET " + ws + "/users/{uid}", wsRead, h.dirUserForm},
		{"POST " + ws + "/users/{uid}", wsWrite, h.saveDirUser},
		{"POST " + ws + "/users/{uid}/delete", wsWrite, h.deleteDirUser},
		{"POST " + ws + "/users/{uid}/password", wsWrite, h.setDirUserPassword},
		{"POST " + ws + "/users/{uid}/password-link", wsWrite, h.sendDirUserPasswordLink},
		{"POST " + ws + "/users/{uid}/password-expire", wsWrite, h.expireDirUserPassword},
		{"POST " + ws + "/users/{uid}/sessions/revoke", wsWrite, h.revokeDirUserSession},
		{"POST " + ws + "/users/{uid}/consents/revoke", wsWrite, h.revokeDirUserConsent},
		{"GET " + ws + "/profiles", wsRead, h.profiles},
		{"POST " + ws + "/profiles", wsWrite, h.createProfile},
		{"GET " + ws + "/profiles/{pid}", wsRead, h.profileForm},
		{"POST " + ws + "/profiles/{pid}", wsWrite, h.saveProfile},
		{"POST " + ws + "/profiles/{pid}/delete", wsWrite, h.deleteProfile},
		{"GET " + ws + "/trusted-issuers", wsRead, h.issuers},
		{"GET " + ws + "/trusted-issuers/new", wsWrite, h.issuerForm},
		{"POST " + ws + "/trusted-issuers/new", wsWrite, h.saveIssuer},
		{"GET " + ws + "/trusted-issuers/{iid}", wsRead, h.issuerForm},
		{"POST " + ws + "/trusted-issuers/{iid}", wsWrite, h.saveIssuer},
		{"POST " + ws + "/trusted-issuers/{iid}/delete", wsWrite, h.deleteIssuer},
	}
}

// Mount registers every console route on mux.
func (h *Handler) Mount(mux *http.ServeMux) {
	h.pages = &pages{}
	if h.Limiter == nil {
		// 10 attempts at once, then one every 6 seconds, per IP and per
		// account (SECURITY.md K7): a delay, not a lockout an attacker
		// could trigger against a real admin.
		h.Limiter = ratelimit.New(1.0/6, 10, h.Now)
	}
	if h.TokenFailures == nil {
		h.TokenFailures = h.Limiter
	}
	mux.HandleFunc("GET "+Prefix, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
	})
	for _, rt := range h.routes() {
		mux.Handle(rt.pattern, h.wrap(rt))
	}
}

// reqCtx is the per-request state a page handler works with.
type reqCtx struct {
	user    storage.AdminUser
	session storage.ConsoleSession
	csrf    string // the token forms must carry
	ws      string // {ws} when the route has one
	// detailTypes is the service page's authorization details types
	// editor as edited or refused (detailtypes.go); nil shows the stored.
	detailTypes *detailTypesState
}

// wrap applies the headers, session, role and CSRF checks of rt.
func (h *Handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w.Header())
		c := &reqCtx{ws: r.PathValue("ws")}
		if rt.need == public {
			rt.fn(w, r, c)
			return
		}
		sess, user, err := h.readSession(w, r)
		if errors.Is(err, storage.ErrUnavailable) {
			h.fail(w, r, c, err)
			return
		}
		if err != nil {
			h.toSignin(w, r)
			return
		}
		c.user, c.session, c.csrf = user, sess, sessionCSRF(sess)
		if !h.allowed(rt.need, user, c.ws) {
			h.renderError(w, r, c, http.StatusForbidden, "You do not have access to this page.")
			return
		}
		if r.Method == http.MethodPost && !h.checkCSRF(r, c.csrf) {
			h.renderError(w, r, c, http.StatusForbidden, "The form expired or did not come from this console. Reload the page and try again.")
			return
		}
		ctx := service.WithActor(r.Context(), service.Actor{
			Kind: storage.ActorConsole, ID: user.ID, Name: user.Username, IP: remoteIP(r),
		})
		rt.fn(w, r.WithContext(ctx), c)
	})
}

// allowed enforces the roles (SECURITY.md O4) on every route.
func (h *Handler) allowed(need access, u storage.AdminUser, ws string) bool {
	if u.Role == storage.RoleSuperAdmin {
		return true
	}
	switch need {
	case signedIn:
		return true
	case wsRead:
		return hasWorkspace(u, ws)
	case wsWrite:
		return u.Role == storage.RoleWorkspaceAdmin && hasWorkspace(u, ws)
	}
	return false
}

func hasWorkspace(u storage.AdminUser, ws string) bool {
	for _, w := range u.Workspaces {
		if w == ws {
			return true
		}
	}
	return false
}

func canWrite(u storage.AdminUser, ws string) bool {
	return u.Role == storage.RoleSuperAdmin || u.Role == storage.RoleWorkspaceAdmin && hasWorkspace(u, ws)
}

// setPageHeaders are the headers of every console response (SECURITY.md
// K5, K9, K12).
func setPageHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
}

func (h *Handler) toSignin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		h.renderError(w, r, &reqCtx{}, http.StatusForbidden, "Your session has ended. Sign in again.")
		return
	}
	http.Redirect(w, r, Prefix+"/signin", http.StatusSeeOther)
}
