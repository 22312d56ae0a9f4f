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
	if life, ok := verr.seconds(f, "settings.max_assertion_lifetime", "max_assertion_lifetime"); ok {
		p.MaxAssertionLifetime = &life
	}
	// The field shows whole hours: an unchanged field keeps a period the
	// API set in finer units.
	if f.str("key_rotation_period_hours") != nil && f.get("key_rotation_period_hours") != f.get("key_rotation_period_hours_was") {
		if period, ok := verr.hours(f, "settings.key_rotation_period", "key_rotation_period_hours"); ok {
			p.KeyRotationPeriod = &period
		}
	}
	if f.str("strict_assertion_audience_shown") != nil {
		strict := f.checked("strict_assertion_audience")
		p.StrictAssertionAudience = &strict
	}
	ws, err := orRun(&verr, func() (storage.Workspace, error) { return h.Service.UpdateWorkspace(r.Context(), c.ws, p) })
	h.renderSettingsSaved(w, r, c, ws, err, "Settings saved.")
}

// renderSettingsSaved answers a save of one section of the workspace
// settings page (general, protocols, FAPI 2.0): the saved workspace with
// notice, or, when the save was refused, the stored workspace with the
// refusal next to its fields. The address bar shows the settings page, not
// the section's POST target.
func (h *Handler) renderSettingsSaved(w http.ResponseWriter, r *http.Request, c *reqCtx, ws storage.Workspace, err error, notice string) {
	if err != nil {
		cur, gerr := h.Service.GetWorkspace(r.Context(), c.ws)
		if gerr != nil {
			h.fail(w, r, c, gerr)
			return
		}
		v := h.settingsView(r, c, cur)
		v.URL = h.wsURL(c.ws, "/settings")
		if status, ok := formErrors(v, err); ok {
			h.render(w, r, status, "settings", v)
			return
		}
		h.fail(w, r, c, err)
		return
	}
	v := h.settingsView(r, c, ws)
	v.URL = h.wsURL(c.ws, "/settings")
	v.Notice = notice
	h.render(w, r, http.StatusOK, "settings", v)
}

// setWorkspaceEnabled enables or disables the workspace: a disabled
// workspace serves no tokens, discovery or sign-in until enabled again.
func (h *Handler) setWorkspaceEnabled(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	state := r.PathValue("state")
	if state != "enable" && state != "disable" {
		h.renderError(w, r, c, http.StatusNotFound, "Unknown action.")
		return
	}
	on := state == "enable"
	if !on && r.PostFormValue("confirm") != "on" {
		h.renderError(w, r, c, http.StatusBadRequest, "confirm: tick the box to confirm that the workspace stops serving")
		return
	}
	ws, err := h.Service.UpdateWorkspace(r.Context(), c.ws, service.WorkspacePatch{Enabled: &on})
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	v := h.settingsView(r, c, ws)
	v.URL = h.wsURL(c.ws, "/settings")
	v.Notice = "The workspace is enabled."
	if !on {
		v.Notice = "The workspace is disabled: it issues no tokens until it is enabled again."
	}
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
	ws, err := h.Service.GetWorkspace(r.Context(), c.ws)
	if err == nil {
		err = h.Service.DeleteWorkspace(r.Context(), c.ws)
	}
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, deletedURL(Prefix+"/", "workspace", ws.Name, ws.ID))
}

type keysData struct {
	Keys []service.KeyInfo
	Algs []string
	// EncryptionKeys are the request object encryption keys
	// (encryptionkeys.go), shown on the same page.
	EncryptionKeys []service.EncryptionKeyInfo
}

func (h *Handler) keys(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	keys, err := h.Service.ListKeys(r.Context(), c.ws)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	encKeys, err := h.Service.ListEncryptionKeys(r.Context(), c.ws)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.render(w, r, http.StatusOK, "keys", h.newView(r, c, "Signing keys", "keys", keysData{Keys: keys, Algs: oauth2.SigningAlgs, EncryptionKeys: encKeys}))
}

func (h *Handler) rotateKeys(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if _, err := h.Service.RotateKeys(r.Context(), c.ws, r.PostFormValue("alg")); err != nil {
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, Prefix+"/w/"+c.ws+"/keys")
}

// removeKey deletes a retired or next key at once (emergency revocation,
// SECURITY.md P4); the service refuses the active key.
func (h *Handler) removeKey(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	kid := r.PathValue("kid")
	if r.PostFormValue("confirm") != "on" {
		h.renderError(w, r, c, http.StatusBadRequest, "confirm: tick the box to confirm that tokens signed by the key stop verifying")
		return
	}
	if err := h.Service.RemoveKey(r.Context(), c.ws, kid); err != nil {
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, deletedURL(h.wsURL(c.ws, "/keys"), "signing key", kid, ""))
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
	uid := r.PathValue("uid")
	u, err := h.Service.GetConsoleUser(r.Context(), uid)
	if err == nil {
		err = h.Service.DeleteConsoleUser(r.Context(), uid)
	}
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, deletedURL(Prefix+"/users", "console user", u.Username, ""))
}
