package adminapi

import (
	"log/slog"
	"net/http"
	"slices"

	"github.com/latchkey/latchkey/internal/ratelimit"
	"github.com/latchkey/latchkey/internal/service"
)

// Prefix is the versioned path prefix of the admin API.
const Prefix = "/admin/v1"

// Handler serves the admin API.
type Handler struct {
	Service *service.Service
	Auth    Authorizer
	Logger  *slog.Logger
	// BaseURL, when set, adds each workspace's issuer URL to its JSON.
	BaseURL string
	// FailedAuth budgets failed admin bearer tokens per remote address
	// (docs/security.md R8); nil leaves them unlimited.
	FailedAuth *ratelimit.Limiter
}

// route is one admin API endpoint. The list is also what the OpenAPI
// document is tested against.
type route struct {
	pattern string // "METHOD /path"
	handle  http.HandlerFunc
	public  bool
}

func (h *Handler) routes() []route {
	const ws = Prefix + "/workspaces/{ws}"
	return slices.Concat([]route{
		{"GET " + Prefix + "/openapi.json", h.openAPI, true},
		{"GET " + Prefix + "/workspaces", h.listWorkspaces, false},
		{"POST " + Prefix + "/workspaces", h.createWorkspace, false},
		{"GET " + ws, h.getWorkspace, false},
		{"PATCH " + ws, h.updateWorkspace, false},
		{"DELETE " + ws, h.deleteWorkspace, false},
	}, collectionRoutes[serviceRequest](h, ws, "services", serviceView,
		(*svc).ListServices, (*svc).CreateService, (*svc).GetService, (*svc).UpdateService, (*svc).DeleteService,
	), []route{
		// Clients answer create and update with their secret (SECURITY.md
		// D3), so they are not one view throughout like a collectionRoutes.
		{"GET " + ws + "/clients", listHandler(h, "clients", (*svc).ListClients, clientView), false},
		{"POST " + ws + "/clients", createHandler[clientRequest](h, (*svc).CreateClient, clientSecretView), false},
		{"GET " + ws + "/clients/{id}", getHandler(h, (*svc).GetClient, clientView), false},
		{"PATCH " + ws + "/clients/{id}", updateHandler[clientRequest](h, (*svc).UpdateClient, clientSecretView), false},
		{"DELETE " + ws + "/clients/{id}", deleteHandler(h, (*svc).DeleteClient), false},
		{"POST " + ws + "/clients/{id}/enable", h.enableClient, false},
		{"POST " + ws + "/clients/{id}/disable", h.disableClient, false},
		{"POST " + ws + "/clients/{id}/secret", h.rotateSecret, false},
		{"GET " + ws + "/keys", h.listKeys, false},
		{"POST " + ws + "/keys/rotate", h.rotateKeys, false},
		{"DELETE " + ws + "/keys/{kid}", h.removeKey, false},
		{"GET " + ws + "/encryption-keys", h.listEncryptionKeys, false},
		{"POST " + ws + "/encryption-keys/rotate", h.rotateEncryptionKeys, false},
		{"DELETE " + ws + "/encryption-keys/{kid}", h.removeEncryptionKey, false},
		{"GET " + ws + "/initial-access-tokens", h.listIATs, false},
		{"POST " + ws + "/initial-access-tokens", h.createIAT, false},
		{"DELETE " + ws + "/initial-access-tokens/{id}", h.deleteIAT, false},
	}, h.directoryRoutes(ws), h.consoleRoutes(ws), h.authFlowRoutes(ws), h.policyRoutes(ws), h.claimRoutes(ws), h.adminTokenRoutes(),
		h.auditRoutes(ws), h.outboxRoutes(), h.passwordExpiryRoutes(ws), h.configRoutes(ws))
}

// Mount registers every admin route on mux.
func (h *Handler) Mount(mux *http.ServeMux) {
	for _, rt := range h.routes() {
		handler := rt.handle
		if !rt.public {
			handler = h.authenticated(routeAccess(rt.pattern), handler)
		}
		mux.Handle(rt.pattern, handler)
	}
}

// authenticated rejects requests without a valid admin bearer token with
// 401 before any other processing (SECURITY.md O4: authz on every route).
// An address whose failed-token budget is spent gets 429 before its token
// is looked at (docs/security.md R8).
// After that the credential's role must allow the route (docs/security.md
// O5).
func (h *Handler) authenticated(need access, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.refuseSpentBudget(w, r) {
			return
		}
		p, ok, err := h.principal(r)
		if err != nil {
			// Storage failed: not the caller's fault, so nothing is
			// charged, and the answer is 503 (docs/security.md R5).
			h.writeError(w, r, err)
			return
		}
		if !ok {
			h.chargeFailedToken(r)
			h.writeError(w, r, &httpError{status: http.StatusUnauthorized, code: codeUnauthorized,
				desc: "a valid admin bearer token is required"})
			return
		}
		if err := p.allows(need, r); err != nil {
			h.writeError(w, r, err)
			return
		}
		next(w, r.WithContext(service.WithActor(r.Context(), p.Actor)))
	}
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// respond writes v as JSON or the error.
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if status == http.StatusNoContent {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, v)
}

// RoutePatterns lists the "METHOD /path" patterns the handler serves.
func RoutePatterns() []string {
	h := &Handler{}
	rs := h.routes()
	out := make([]string, len(rs))
	for i, rt := range rs {
		out[i] = rt.pattern
	}
	return out
}
