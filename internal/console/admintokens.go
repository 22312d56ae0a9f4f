package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// adminTokensData feeds the admin tokens page (super admins only): the
// list, the create form as typed and, right after a creation, the token
// value, shown this once (docs/security.md O5).
type adminTokensData struct {
	Tokens  []adminTokenRow
	Roles   []string
	Form    map[string]string
	Created *createdAdminToken
}

type adminTokenRow struct {
	T       storage.AdminToken
	Expired bool
}

type createdAdminToken struct {
	T     storage.AdminToken
	Token string
}

func (h *Handler) adminTokens(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	h.renderAdminTokens(w, r, c, http.StatusOK, nil, map[string]string{"role": storage.RoleWorkspaceViewer, "expires_in_days": "90"}, nil, "")
}

func (h *Handler) renderAdminTokens(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, ferr error,
	form map[string]string, created *createdAdminToken, notice string) {
	list, err := h.Service.ListAdminTokens(r.Context())
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	now := h.now()
	d := adminTokensData{Tokens: make([]adminTokenRow, len(list)), Roles: storage.AdminRoles, Form: form, Created: created}
	for i, t := range list {
		d.Tokens[i] = adminTokenRow{T: t, Expired: !t.ExpiresAt.IsZero() && !t.ExpiresAt.After(now)}
	}
	v := h.newView(r, c, "Admin API tokens", "admin_tokens", d)
	v.Notice = notice
	if ferr == nil {
		h.render(w, r, status, "admin_tokens", v)
		return
	}
	// A refused form comes back with its input and the errors; any other
	// error is not the user's.
	if s, ok := formErrors(v, ferr); ok {
		h.render(w, r, s, "admin_tokens", v)
		return
	}
	h.fail(w, r, c, ferr)
}

func (h *Handler) createAdminToken(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	form := map[string]string{"name": f.get("name"), "role": f.get("role"), "workspaces": f.get("workspaces"),
		"expires_in_days": f.get("expires_in_days")}
	in := service.AdminTokenInput{Name: form["name"], Role: form["role"], Workspaces: splitLines(form["workspaces"])}
	if days := strings.TrimSpace(form["expires_in_days"]); days != "" {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			h.renderAdminTokens(w, r, c, 0, &service.ValidationError{Errors: []service.FieldError{{
				Field: "expires_in", Rule: "range", Message: "expires_in: enter a whole number of days (0 = never expires)",
			}}}, form, nil, "")
			return
		}
		in.ExpiresIn = time.Duration(n) * 24 * time.Hour
	}
	t, token, err := h.Service.CreateAdminToken(r.Context(), in)
	if err != nil {
		h.renderAdminTokens(w, r, c, 0, err, form, nil, "")
		return
	}
	h.renderAdminTokens(w, r, c, http.StatusOK, nil, map[string]string{"role": storage.RoleWorkspaceViewer, "expires_in_days": "90"},
		&createdAdminToken{T: t, Token: token}, "Admin token "+t.ID+" created. Copy the token now: it is shown only once.")
}

func (h *Handler) deleteAdminToken(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if r.PostFormValue("confirm") != "on" {
		h.renderError(w, r, c, http.StatusBadRequest, "confirm: tick the box to confirm the deletion")
		return
	}
	id := r.PathValue("tid")
	if err := h.Service.DeleteAdminToken(r.Context(), id); err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.renderAdminTokens(w, r, c, http.StatusOK, nil, map[string]string{"role": storage.RoleWorkspaceViewer, "expires_in_days": "90"}, nil,
		"Admin token "+id+" was deleted. Requests with it are refused from now on.")
}
