package login

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// LoginData is the sign-in page's data (docs/authorization-flow.md).
type LoginData struct {
	RequestID  string
	Username   string
	ClientName string
	// ReturnTo is the page to return to after a sign-in without a pending
	// request (returnto.go): "" for the account page.
	ReturnTo string
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
	if !h.Sessions.BoundTo(r, req.BrowserHash) {
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
	data := LoginData{ReturnTo: safeReturn(r.URL.Query().Get("return_to"))}
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
	pg.p.CSRF = h.Sessions.FormCSRF(w, r, loginPurpose(pg.ws.ID))
	pg.p.Data = data
	if errID != "" {
		pg.p.Error = pg.p.T(errID)
	}
	webui.Render(w, h.Logger, status, "login", pg.p)
}

func (h *Handler) serveLoginPost(w http.ResponseWriter, r *http.Request) {
	pg, form, ok := h.postedForm(w, r, loginPurpose)
	if !ok {
		return
	}
	req, ok := h.pending(w, r, pg, form.Get("request_id"))
	if !ok {
		return
	}
	data := LoginData{Username: form.Get("username"), ReturnTo: safeReturn(form.Get("return_to"))}
	if req != nil {
		data.RequestID, data.ClientName = req.ID, h.clientName(r, pg.ws.ID, req.ClientID)
	}
	h.signIn(w, r, pg, data, form.Get("password"))
}

// signIn checks the attempt against the failure counters, checks the
// password and starts the session (package documentation).
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, pg *page, data LoginData, password string) {
	ctx := r.Context()
	name := data.Username
	// A name that is not storable text names no user: the normal answer,
	// before any counter or lookup sees it (docs/security.md R4).
	if name == "" || len(name) > 320 || !storage.ValidText(name) || password == "" || len(password) > MaxPasswordLen {
		h.renderLogin(w, r, pg, http.StatusBadRequest, data, "login_failed")
		return
	}
	user, found, err := h.findUser(ctx, pg.ws.ID, name)
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	list, dev, err := h.attemptCounters(w, r, pg.ws.ID, name, user, found)
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	att, retry, err := h.counters().admit(ctx, pg.ws.ID, list)
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	if retry > 0 {
		w.Header().Set("Retry-After", retryAfter(retry))
		h.renderLogin(w, r, pg, http.StatusTooManyRequests, data, "too_many_attempts")
		return
	}
	good, err := h.checkPassword(ctx, user, found, password)
	if err != nil {
		att.abandon()
		h.unavailable(w, r, pg, err)
		return
	}
	if !good {
		if err := att.failed(ctx); err != nil {
			h.unavailable(w, r, pg, err)
			return
		}
		h.renderLogin(w, r, pg, http.StatusBadRequest, data, "login_failed")
		return
	}
	if err := att.succeeded(ctx); err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	h.setDevice(w, pg.ws.ID, user.ID, dev)
	h.finishSignIn(w, r, pg, user, data)
}

// attemptCounters lists the counters of an attempt: the source address's,
// then the device's when the browser holds a valid device cookie for the
// account that has failures left, else the account name's. A device that
// has used up its failures loses its cookie and counts as unknown
// (docs/security.md R10).
func (h *Handler) attemptCounters(w http.ResponseWriter, r *http.Request, wsID, name string, user storage.User, found bool) ([]counter, device, error) {
	list := []counter{{key: ipKey(endpoint.RemoteIP(r)), policy: h.ipPolicy()}}
	account := counter{key: accountKey(name), policy: h.accountPolicy(), resetOnSuccess: true}
	if !found {
		return append(list, account), device{}, nil
	}
	dev, ok := h.readDevice(r, wsID, user.ID)
	if !ok {
		return append(list, account), device{}, nil
	}
	devCounter := counter{key: deviceKey(user.ID, dev.DeviceID), policy: h.devicePolicy(), resetOnSuccess: true}
	cur, err := h.counters().read(r.Context(), wsID, devCounter.key)
	if err != nil {
		return nil, device{}, err
	}
	if devCounter.policy.failures(cur, h.now()) >= devCounter.policy.Free {
		h.dropDevice(w, wsID)
		return append(list, account), device{}, nil
	}
	return append(list, devCounter), dev, nil
}

func (h *Handler) finishSignIn(w http.ResponseWriter, r *http.Request, pg *page, user storage.User, data LoginData) {
	ctx := r.Context()
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
	if data.ReturnTo != "" {
		seeOther(w, pg.issuer+data.ReturnTo)
		return
	}
	seeOther(w, pg.issuer+"/account")
}
