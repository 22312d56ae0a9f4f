package console

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// userEditData feeds the edit page of one console user.
type userEditData struct {
	U          storage.AdminUser
	Roles      []string
	Workspaces string // as typed: comma or line separated
	Self       bool
}

// editUser shows one console user: role, workspaces, disabled, contact
// details and a password reset, all through the service layer the admin
// API's /console-users routes use.
func (h *Handler) editUser(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	u, err := h.Service.GetConsoleUser(r.Context(), r.PathValue("uid"))
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.render(w, r, http.StatusOK, "user_edit", h.userEditView(r, c, u, strings.Join(u.Workspaces, ", ")))
}

func (h *Handler) userEditView(r *http.Request, c *reqCtx, u storage.AdminUser, ws string) *view {
	return h.newView(r, c, "Console user "+u.Username, "users", userEditData{
		U: u, Roles: storage.AdminRoles, Workspaces: ws, Self: u.ID == c.user.ID,
	})
}

// saveUser applies the edit form. Changing role, workspaces or the
// disabled flag signs the user out everywhere (service layer).
func (h *Handler) saveUser(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	id := r.PathValue("uid")
	role, disabled, ws := f.get("role"), f.checked("disabled"), splitLines(f.get("workspaces"))
	if role == storage.RoleSuperAdmin {
		ws = nil // super admins span every workspace; a leftover list is not an error
	}
	p := service.ConsoleUserPatch{Email: f.str("email"), DisplayName: f.str("display_name"), Role: &role, Workspaces: &ws, Disabled: &disabled}
	u, err := h.Service.UpdateConsoleUser(r.Context(), id, p)
	if err != nil {
		h.userFormError(w, r, c, id, err, func(u *storage.AdminUser) {
			u.Email, u.DisplayName, u.Role, u.Disabled = f.get("email"), f.get("display_name"), role, disabled
		}, f.get("workspaces"))
		return
	}
	v := h.userEditView(r, c, u, strings.Join(u.Workspaces, ", "))
	v.Notice = "Saved."
	if u.ID == c.user.ID && (u.Role != c.user.Role || u.Disabled) {
		// The service ended this user's sessions, ours included.
		redirect(w, r, Prefix+"/signin")
		return
	}
	h.render(w, r, http.StatusOK, "user_edit", v)
}

// setUserPassword resets a console user's password (and signs it out).
func (h *Handler) setUserPassword(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id := r.PathValue("uid")
	f := formOf(r)
	if f.r.PostForm.Get("password") != f.r.PostForm.Get("password_again") {
		h.userFormError(w, r, c, id, &service.ValidationError{Errors: []service.FieldError{{
			Field: "password", Rule: "match", Message: "password: the two entries do not match",
		}}}, nil, "")
		return
	}
	if err := h.Service.SetConsoleUserPassword(r.Context(), id, f.r.PostForm.Get("password")); err != nil {
		h.userFormError(w, r, c, id, err, nil, "")
		return
	}
	if id == c.user.ID {
		redirect(w, r, Prefix+"/signin")
		return
	}
	u, err := h.Service.GetConsoleUser(r.Context(), id)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	v := h.userEditView(r, c, u, strings.Join(u.Workspaces, ", "))
	v.Notice = "Password changed. The user was signed out everywhere."
	h.render(w, r, http.StatusOK, "user_edit", v)
}

// userFormError re-renders the edit page with the submitted values and
// the service's field errors.
func (h *Handler) userFormError(w http.ResponseWriter, r *http.Request, c *reqCtx, id string, ferr error,
	keep func(*storage.AdminUser), ws string) {
	u, err := h.Service.GetConsoleUser(r.Context(), id)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	if keep != nil {
		keep(&u)
	} else {
		ws = strings.Join(u.Workspaces, ", ")
	}
	v := h.userEditView(r, c, u, ws)
	status, ok := formErrors(v, ferr)
	if !ok {
		h.fail(w, r, c, ferr)
		return
	}
	h.render(w, r, status, "user_edit", v)
}
