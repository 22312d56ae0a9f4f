package console

import (
	"net/http"
	"net/url"
	"sort"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// Pages of the directory: users (JWT bearer subjects and service
// users) and profiles (named groups of users, as Salesforce profiles are
// used by the seed's "Admin approved users are pre-authorized").

func (h *Handler) wsURL(ws, rest string) string { return Prefix + "/w/" + url.PathEscape(ws) + rest }

type dirUsersData struct {
	Users []storage.User
	Query string
	Next  string
	After string
}

// dirUsers lists the workspace's users with search and keyset paging.
func (h *Handler) dirUsers(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	q := r.URL.Query()
	opts := storage.ListOptions{Query: q.Get("q"), After: q.Get("after"), Limit: 25}
	page, err := h.Service.ListUsers(r.Context(), c.ws, opts)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.render(w, r, http.StatusOK, "dir_users", h.newView(r, c, "Users", "users_dir", dirUsersData{
		Users: page.Items, Query: opts.Query, Next: page.Next, After: opts.After,
	}))
}

type dirUserData struct {
	U        storage.User
	New      bool
	Profiles []storage.Profile
	Attrs    []kv
	// SignIn: passwords, sessions and consents (people only).
	SignIn *dirUserSignIn
}

func (h *Handler) dirUserView(r *http.Request, c *reqCtx, u storage.User, isNew bool) (*view, error) {
	profiles, err := h.Service.ListProfiles(r.Context(), c.ws, storage.ListOptions{Limit: storage.MaxPageSize})
	if err != nil {
		return nil, err
	}
	title := "New user"
	if !isNew {
		title = "User " + u.Username
	}
	d := dirUserData{U: u, New: isNew, Profiles: profiles.Items, Attrs: metadataRows(u.Attributes)}
	if !isNew {
		if d.SignIn, err = h.loadDirUserSignIn(r, c.ws, u); err != nil {
			return nil, err
		}
	}
	return h.newView(r, c, title, "users_dir", d), nil
}

// dirUserForm shows a user, or an empty form for /users/new.
func (h *Handler) dirUserForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	u := storage.User{Active: true}
	isNew := r.PathValue("uid") == ""
	if !isNew {
		var err error
		if u, err = h.Service.GetUser(r.Context(), c.ws, r.PathValue("uid")); err != nil {
			h.fail(w, r, c, err)
			return
		}
	}
	v, err := h.dirUserView(r, c, u, isNew)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.render(w, r, http.StatusOK, "dir_user", v)
}

// saveDirUser creates or updates a user through the service layer.
func (h *Handler) saveDirUser(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	uid := r.PathValue("uid")
	active, svc, profiles := f.checked("active"), f.checked("service_user"), f.list("profiles")
	attrs := *pairs(f, "attr_key", "attr_value")
	u := storage.User{
		ID: uid, Username: f.get("username"), Email: f.get("email"), DisplayName: f.get("display_name"),
		ExternalID: f.get("external_id"), Active: active, ServiceUser: svc, Profiles: profiles, Attributes: attrs,
	}
	var err error
	var saved storage.User
	if uid == "" {
		saved, err = h.Service.CreateUser(r.Context(), c.ws, service.UserInput{
			Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, ExternalID: u.ExternalID,
			Active: &active, ServiceUser: svc, Profiles: profiles, Attributes: attrs,
		})
	} else {
		saved, err = h.Service.UpdateUser(r.Context(), c.ws, uid, service.UserPatch{
			Username: &u.Username, Email: &u.Email, DisplayName: &u.DisplayName, ExternalID: &u.ExternalID,
			Active: &active, ServiceUser: &svc, Profiles: &profiles, Attributes: &attrs,
		})
	}
	if err != nil {
		v, verr := h.dirUserView(r, c, u, uid == "")
		if verr != nil {
			h.fail(w, r, c, verr)
			return
		}
		if status, ok := formErrors(v, err); ok {
			h.render(w, r, status, "dir_user", v)
			return
		}
		h.fail(w, r, c, err)
		return
	}
	v, err := h.dirUserView(r, c, saved, false)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	if uid == "" {
		redirect(w, r, h.wsURL(c.ws, "/users/"+url.PathEscape(saved.ID)))
		return
	}
	v.Notice = "Saved."
	h.render(w, r, http.StatusOK, "dir_user", v)
}

func (h *Handler) deleteDirUser(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if r.PostFormValue("confirm") != "on" {
		h.renderError(w, r, c, http.StatusBadRequest, "confirm: tick the box to confirm the deletion")
		return
	}
	uid := r.PathValue("uid")
	u, err := h.Service.GetUser(r.Context(), c.ws, uid)
	if err == nil {
		err = h.Service.DeleteUser(r.Context(), c.ws, uid)
	}
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, deletedURL(h.wsURL(c.ws, "/users"), "user", u.Username, uid))
}

// pairs reads key/value rows; rows with an empty key are dropped.
func pairs(f form, keyField, valueField string) *map[string]string {
	keys, values := f.r.PostForm[keyField], f.r.PostForm[valueField]
	m := map[string]string{}
	for i, k := range keys {
		if k == "" || i >= len(values) {
			continue
		}
		m[k] = values[i]
	}
	return &m
}

type profilesData struct {
	Profiles []storage.Profile
	Form     map[string]string
}

func (h *Handler) profiles(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	h.renderProfiles(w, r, c, http.StatusOK, nil, map[string]string{})
}

func (h *Handler) renderProfiles(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, ferr error, form map[string]string) {
	page, err := h.Service.ListProfiles(r.Context(), c.ws, storage.ListOptions{Limit: storage.MaxPageSize, Query: r.URL.Query().Get("q")})
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	sort.Slice(page.Items, func(i, j int) bool { return page.Items[i].Name < page.Items[j].Name })
	v := h.newView(r, c, "Profiles", "profiles", profilesData{Profiles: page.Items, Form: form})
	if ferr != nil {
		s, ok := formErrors(v, ferr)
		if !ok {
			h.fail(w, r, c, ferr)
			return
		}
		status = s
	}
	h.render(w, r, status, "profiles", v)
}

func (h *Handler) createProfile(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	in := service.ProfileInput{ID: f.get("id"), Name: f.get("name"), Description: f.get("description")}
	if _, err := h.Service.CreateProfile(r.Context(), c.ws, in); err != nil {
		h.renderProfiles(w, r, c, 0, err, map[string]string{"id": in.ID, "name": in.Name, "description": in.Description})
		return
	}
	redirect(w, r, h.wsURL(c.ws, "/profiles"))
}

func (h *Handler) profileForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p, err := h.Service.GetProfile(r.Context(), c.ws, r.PathValue("pid"))
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.render(w, r, http.StatusOK, "profile", h.newView(r, c, "Profile "+p.Name, "profiles", p))
}

func (h *Handler) saveProfile(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	pid := r.PathValue("pid")
	p, err := h.Service.UpdateProfile(r.Context(), c.ws, pid, service.ProfilePatch{Name: f.str("name"), Description: f.str("description")})
	if err != nil {
		v := h.newView(r, c, "Profile", "profiles", storage.Profile{ID: pid, Name: f.get("name"), Description: f.get("description")})
		if status, ok := formErrors(v, err); ok {
			h.render(w, r, status, "profile", v)
			return
		}
		h.fail(w, r, c, err)
		return
	}
	v := h.newView(r, c, "Profile "+p.Name, "profiles", p)
	v.Notice = "Saved."
	h.render(w, r, http.StatusOK, "profile", v)
}

func (h *Handler) deleteProfile(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if r.PostFormValue("confirm") != "on" {
		h.renderError(w, r, c, http.StatusBadRequest, "confirm: tick the box to confirm the deletion")
		return
	}
	pid := r.PathValue("pid")
	p, err := h.Service.GetProfile(r.Context(), c.ws, pid)
	if err == nil {
		err = h.Service.DeleteProfile(r.Context(), c.ws, pid)
	}
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, deletedURL(h.wsURL(c.ws, "/profiles"), "profile", p.Name, pid))
}
