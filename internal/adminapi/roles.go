package adminapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// codeForbidden is the error of a valid credential whose role does not
// allow the request.
const codeForbidden = "forbidden"

// access is what a route requires of the credential's role, mirroring the
// console's roles (docs/security.md O4, O5).
type access int

const (
	superAdmin access = iota // server-wide routes
	wsRead                   // reads of workspace {ws}
	wsWrite                  // changes to workspace {ws}
)

// routeAccess derives a route's access from its pattern: routes under a
// workspace are reads (GET) or writes, every other route is server-wide
// and needs super_admin, as does deleting a workspace (the console offers
// it to super admins only).
func routeAccess(pattern string) access {
	method, path, _ := strings.Cut(pattern, " ")
	const ws = Prefix + "/workspaces/{ws}"
	switch {
	case path != ws && !strings.HasPrefix(path, ws+"/"):
		return superAdmin
	case method == http.MethodDelete && path == ws:
		return superAdmin
	case method == http.MethodGet:
		return wsRead
	}
	return wsWrite
}

// principal resolves the credential of r; an Authorizer that knows no
// roles grants super_admin.
func (h *Handler) principal(r *http.Request) (Principal, bool, error) {
	if h.Auth == nil {
		return Principal{}, false, nil
	}
	if pa, ok := h.Auth.(PrincipalAuthorizer); ok {
		return pa.Principal(r)
	}
	ok, err := h.Auth.Authorize(r)
	if err != nil || !ok {
		return Principal{}, false, err
	}
	p := Principal{Role: storage.RoleSuperAdmin, Actor: service.Actor{Kind: storage.ActorAPIToken, IP: peerIP(r)}}
	if n, named := h.Auth.(ActorNamer); named {
		p.Actor = n.Actor(r)
	}
	return p, true, nil
}

// allows checks need against the role. A workspace outside the
// credential's list answers 404 exactly as an unknown one, so that a
// scoped token learns nothing about other workspaces (SECURITY.md O1).
func (p Principal) allows(need access, r *http.Request) error {
	if p.Role == storage.RoleSuperAdmin {
		return nil
	}
	if need == superAdmin {
		return &httpError{status: http.StatusForbidden, code: codeForbidden,
			desc: "this admin token's role (" + p.Role + ") may not use server-wide routes; a super_admin token is required"}
	}
	ws := r.PathValue("ws")
	if !slices.Contains(p.Workspaces, ws) {
		return &httpError{status: http.StatusNotFound, code: codeNotFound, desc: fmt.Sprintf("workspace %q not found", ws)}
	}
	if need == wsWrite && p.Role != storage.RoleWorkspaceAdmin {
		return &httpError{status: http.StatusForbidden, code: codeForbidden,
			desc: "this admin token's role (" + p.Role + ") may only read; a workspace_admin token is required to change the workspace"}
	}
	return nil
}
