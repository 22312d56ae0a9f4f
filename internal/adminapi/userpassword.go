package adminapi

import "net/http"

// passwordExpiryRoutes: expiring a directory user's password, as the
// console's user page does.
func (h *Handler) passwordExpiryRoutes(ws string) []route {
	return []route{
		{"POST " + ws + "/users/{id}/password/expire", h.expireUserPassword, false},
	}
}

// expireUserPassword makes the user's password stop working at once and
// signs the user out everywhere (204). The user needs a new password: a
// set-password link (POST .../password-link) or one set by an
// administrator (PUT .../password).
func (h *Handler) expireUserPassword(w http.ResponseWriter, r *http.Request) {
	err := h.Service.InvalidateUserPassword(r.Context(), r.PathValue("ws"), r.PathValue("id"))
	h.respond(w, r, http.StatusNoContent, nil, err)
}
