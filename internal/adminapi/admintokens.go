package adminapi

import (
	"net/http"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// adminTokenRoutes manage the scoped admin API tokens (docs/security.md
// O5). They are server-wide, so only super_admin credentials reach them.
func (h *Handler) adminTokenRoutes() []route {
	const at = Prefix + "/admin-tokens"
	return []route{
		{"GET " + at, h.listAdminTokens, false},
		{"POST " + at, h.createAdminToken, false},
		{"DELETE " + at + "/{id}", h.deleteAdminToken, false},
	}
}

func adminTokenView(t storage.AdminToken) adminclient.AdminToken {
	return adminclient.AdminToken{
		ID: t.ID, Name: t.Name, Role: t.Role, Workspaces: nonNil(t.Workspaces), ExpiresAt: timePtr(t.ExpiresAt),
		LastUsedAt: timePtr(t.LastUsedAt), CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy,
	}
}

func (h *Handler) listAdminTokens(w http.ResponseWriter, r *http.Request) {
	list, err := h.Service.ListAdminTokens(r.Context())
	out := adminclient.List[adminclient.AdminToken]{Items: make([]adminclient.AdminToken, len(list))}
	for i, t := range list {
		out.Items[i] = adminTokenView(t)
	}
	h.respond(w, r, http.StatusOK, out, err)
}

func (h *Handler) createAdminToken(w http.ResponseWriter, r *http.Request) {
	var req adminclient.AdminTokenCreate
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	t, token, err := h.Service.CreateAdminToken(r.Context(), service.AdminTokenInput{
		Name: req.Name, Role: req.Role, Workspaces: req.Workspaces, ExpiresIn: seconds(req.ExpiresIn),
	})
	v := adminTokenView(t)
	v.Token = token
	h.respond(w, r, http.StatusCreated, v, err)
}

func (h *Handler) deleteAdminToken(w http.ResponseWriter, r *http.Request) {
	h.respond(w, r, http.StatusNoContent, nil, h.Service.DeleteAdminToken(r.Context(), r.PathValue("id")))
}
