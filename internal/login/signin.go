package login

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// LoginData is the sign-in page's data (docs/authorization-flow.md).
type LoginData struct {
	RequestID  string
	Username   string
	ClientName string
}

func loginPurpose(wsID string) string { return "login\x00" + wsID }

// pending loads the pending request named by request_id and checks that
// this browser started it (SECURITY.md E15). No request_id means a sign-in
// for the account page. ok is false when a page has been written.
func (h *Handler) pending(w http.ResponseWriter, r *http.Request, pg *page, id string) (*storage.AuthRequest, bool) {
	if id == "" {
		return nil, true
	}
	req, err := h.Store.GetAuthRequest(r.Context(), pg.ws.ID, id, h.now())
	if errors.Is(err, storage.ErrNotFound) || len(id) > 128 {
		h.errorPage(w, pg, http.StatusBadRequest, "invalid_request", pg.p.T("request_expired"))
		return nil, false
	}
	if err != nil {
		h.unavailable(w, r, pg, err)
		return nil, false
	}
	if !webui.BoundTo(r, req.BrowserHash) {
		h.errorPage(w, pg, http.StatusBadRequest, "invalid_request", pg.p.T("wrong_browser"))
		return nil, false
	}
	pg.p.Localizer = webui.ChooseLanguage(req.UILocales, r)
	return &req, true
}

func (h *Handler) serveLoginPage(w http.ResponseWriter, r *http.Request) {
	pg, ok := h.begin(w, r)
	if !ok {
		return
	}
	req, ok := h.pending(w, r, pg, r.URL.Query().Get("request_id"))
	if !ok {
		return
	}
	data := LoginData{}
	if req != nil {
		data.RequestID, data.Username = req.ID, req.LoginHint
		data.ClientName = h.clientName(r, pg.ws.ID, req.ClientID)
	}
	h.renderLogin(w, r, pg, http.StatusOK, data, "")
}

func (h *Handler) clientName(r *http.Request, wsID, clientID string) string {
	c, err := h.Store.GetClient(r.Context(), wsID, clientID)
	if err != nil || c.Name == "" {
		return clientID
	}
	return c.Name
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, pg *page, status int, data LoginData, errID string) {
	pg.p.Title = pg.p.T("sign_in_title")
	pg.p.CSRF = webui.CSRFToken(webui.BrowserSecret(w, r), loginPurpose(pg.ws.ID))
	pg.p.Data = data
	if errID != "" {
		pg.p.Error = pg.p.T(errID)
	}
	webui.Render(w, h.Logger, status, "login", pg.p)
}

func (h *Handler) serveLoginPost(w http.ResponseWriter, r *http.Request) {
	pg, ok := h.begin(w, r)
	if !ok {
		return
	}
	form, ok := h.parseForm(w, r, pg)
	if !ok {
		return
	}
	if !webui.CheckCSRF(r, form.Get("csrf_token"), loginPurpose(pg.ws.ID)) {
		h.forbidden(w, pg)
		return
	}
	req, ok := h.pending(w, r, pg, form.Get("request_id"))
	if !ok {
		return
	}
	data := LoginData{Username: form.Get("username")}
	if req != nil {
		data.RequestID, data.ClientName = req.ID, h.clientName(r, pg.ws.ID, req.ClientID)
	}
	h.signIn(w, r, pg, data, form.Get("password"))
}

// signIn takes an attempt, checks the password and starts the session
// (package documentation).
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, pg *page, data LoginData, password string) {
	ctx := r.Context()
	name := data.Username
	if name == "" || len(name) > 320 || password == "" || len(password) > MaxPasswordLen {
		h.renderLogin(w, r, pg, http.StatusBadRequest, data, "login_failed")
		return
	}
	retry, err := h.counters().take(ctx, pg.ws.ID, name, remoteIP(r), h.now())
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	if retry > 0 {
		w.Header().Set("Retry-After", retryAfter(retry))
		h.renderLogin(w, r, pg, http.StatusTooManyRequests, data, "too_many_attempts")
		return
	}
	user, found, err := h.findUser(ctx, pg.ws.ID, name)
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	good, err := h.checkPassword(ctx, user, found, password)
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	if !good {
		h.renderLogin(w, r, pg, http.StatusBadRequest, data, "login_failed")
		return
	}
	h.finishSignIn(w, r, pg, user, data)
}

func (h *Handler) finishSignIn(w http.ResponseWriter, r *http.Request, pg *page, user storage.User, data LoginData) {
	ctx := r.Context()
	if err := h.counters().succeeded(ctx, pg.ws.ID, data.Username, remoteIP(r)); err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	if _, err := h.Sessions.Start(ctx, w, r, user, []string{"pwd"}); err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	if h.Logger != nil {
		h.Logger.InfoContext(ctx, "user signed in", "workspace", pg.ws.ID, "user_id", user.ID)
	}
	if data.RequestID != "" {
		seeOther(w, pg.issuer+"/consent?request_id="+url.QueryEscape(data.RequestID))
		return
	}
	seeOther(w, pg.issuer+"/account")
}
