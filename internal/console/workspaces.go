package console

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

type settingsData struct {
	Workspace   storage.Workspace
	Issuer      string
	Algs        []string
	AuthMethods []string
}

func (h *Handler) settingsView(r *http.Request, c *reqCtx, ws storage.Workspace) *view {
	return h.newView(r, c, "Workspace settings", "settings", settingsData{
		Workspace: ws, Issuer: h.BaseURL + "/w/" + ws.ID, Algs: oauth2.SigningAlgs, AuthMethods: oauth2.AllAuthMethods,
	})
}

func (h *Handler) settings(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	ws, err := h.Service.GetWorkspace(r.Context(), c.ws)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.render(w, r, http.StatusOK, "settings", h.settingsView(r, c, ws))
}

func (h *Handler) saveSettings(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	p := service.WorkspacePatch{Name: f.str("name"), SigningAlg: f.str("signing_alg")}
	methods := f.list("allowed_auth_methods")
	p.AllowedAuthMethods = &methods
	p.Branding = brandingForm(f)
	var verr fieldErrs
	if ttl, ok := verr.seconds(f, "settings.access_token_ttl", "access_token_ttl"); ok {
		p.AccessTokenTTL = &ttl
	}
	ws, err := orRun(&verr, func() (storage.Workspace, error) { return h.Service.UpdateWorkspace(r.Context(), c.ws, p) })
	if err != nil {
		cur, gerr := h.Service.GetWorkspace(r.Context(), c.ws)
		if gerr != nil {
			h.fail(w, r, c, gerr)
			return
		}
		v := h.settingsView(r, c, cur)
		if status, ok := formErrors(v, err); ok {
			h.render(w, r, status, "settings", v)
			return
		}
		h.fail(w, r, c, err)
		return
	}
	v := h.settingsView(r, c, ws)
	v.Notice = "Settings saved."
	h.render(w, r, http.StatusOK, "settings", v)
}

func (h *Handler) newWorkspaceForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	h.render(w, r, http.StatusOK, "workspace_new", h.newView(r, c, "New workspace", "", map[string]string{}))
}

func (h *Handler) createWorkspace(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	ws, err := h.Service.CreateWorkspace(r.Context(), service.WorkspaceInput{ID: f.get("id"), Name: f.get("name")})
	if err != nil {
		v := h.newView(r, c, "New workspace", "", map[string]string{"id": f.get("id"), "name": f.get("name")})
		if status, ok := formErrors(v, err); ok {
			h.render(w, r, status, "workspace_new", v)
			return
		}
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, Prefix+"/w/"+ws.ID+"/settings")
}

func (h *Handler) deleteWorkspace(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if r.PostFormValue("confirm") != c.ws {
		h.renderError(w, r, c, http.StatusBadRequest, "confirm: type the workspace ID to delete it")
		return
	}
	if err := h.Service.DeleteWorkspace(r.Context(), c.ws); err != nil {
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, Prefix+"/")
}

type keysData struct {
	Keys []service.KeyInfo
	Algs []string
}

func (h *Handler) keys(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	keys, err := h.Service.ListKeys(r.Context(), c.ws)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.render(w, r, http.StatusOK, "keys", h.newView(r, c, "Signing keys", "keys", keysData{Keys: keys, Algs: oauth2.SigningAlgs}))
}

func (h *Handler) rotateKeys(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if _, err := h.Service.RotateKeys(r.Context(), c.ws, r.PostFormValue("alg")); err != nil {
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, Prefix+"/w/"+c.ws+"/keys")
}

type auditData struct {
	Events []storage.AuditEvent
	Client string
	Actor  string
	Next   int64
}

func (h *Handler) audit(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	q := r.URL.Query()
	f := storage.AuditFilter{WorkspaceID: c.ws, Actor: q.Get("actor"), Limit: 50}
	if id := q.Get("client"); id != "" {
		f.TargetType, f.TargetID = service.TargetClient, id
	}
	f.Before = parseInt(q.Get("before"))
	page, err := h.Service.ListAuditEvents(r.Context(), f)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.render(w, r, http.StatusOK, "audit", h.newView(r, c, "Audit log", "audit", auditData{
		Events: page.Items, Client: q.Get("client"), Actor: q.Get("actor"), Next: page.Next,
	}))
}

func (h *Handler) outbox(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	mails, err := h.Store.ListMail(r.Context(), 100)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.render(w, r, http.StatusOK, "outbox", h.newView(r, c, "Mail outbox", "outbox", mails))
}

type usersData struct {
	Users []storage.AdminUser
	Roles []string
	Form  map[string]string
}

func (h *Handler) users(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	h.renderUsers(w, r, c, http.StatusOK, nil, map[string]string{})
}

func (h *Handler) renderUsers(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, ferr error, form map[string]string) {
	page, err := h.Service.ListConsoleUsers(r.Context(), storage.ListOptions{Limit: storage.MaxPageSize})
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	v := h.newView(r, c, "Console users", "users", usersData{Users: page.Items, Roles: storage.AdminRoles, Form: form})
	if ferr != nil {
		if s, ok := formErrors(v, ferr); ok {
			status = s
		} else {
			h.fail(w, r, c, ferr)
			return
		}
	}
	h.render(w, r, status, "users", v)
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	in := service.ConsoleUserInput{
		Username: f.get("username"), Email: f.get("email"), DisplayName: f.get("display_name"),
		Password: f.get("password"), Role: f.get("role"), Workspaces: splitLines(f.get("workspaces")),
	}
	if _, err := h.Service.CreateConsoleUser(r.Context(), in); err != nil {
		h.renderUsers(w, r, c, 0, err, map[string]string{
			"username": in.Username, "email": in.Email, "display_name": in.DisplayName, "role": in.Role, "workspaces": f.get("workspaces"),
		})
		return
	}
	redirect(w, r, Prefix+"/users")
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if err := h.Service.DeleteConsoleUser(r.Context(), r.PathValue("uid")); err != nil {
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, Prefix+"/users")
}
