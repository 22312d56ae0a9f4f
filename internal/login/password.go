package login

import (
	"errors"
	"net/http"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// PasswordSetData is the set-password page's data.
type PasswordSetData struct{ Token string }

func passwordPurpose(wsID string) string { return "password-set\x00" + wsID }

// servePasswordPage shows the form of an e-mailed link. The token is only
// carried into the form: it is spent by the POST, never by a GET (a mail
// scanner following the link must not use it up).
func (h *Handler) servePasswordPage(w http.ResponseWriter, r *http.Request) {
	pg, ok := h.begin(w, r)
	if !ok {
		return
	}
	token := r.URL.Query().Get("token")
	if token == "" || len(token) > 128 {
		h.errorPage(w, pg, http.StatusBadRequest, "invalid_request", pg.p.T("link_invalid"))
		return
	}
	h.renderPasswordSet(w, r, pg, http.StatusOK, token, "")
}

func (h *Handler) renderPasswordSet(w http.ResponseWriter, r *http.Request, pg *page, status int, token, errID string) {
	pg.p.Title = pg.p.T("set_password_title")
	pg.p.CSRF = h.Sessions.FormCSRF(w, r, passwordPurpose(pg.ws.ID))
	pg.p.Data = PasswordSetData{Token: token}
	if errID != "" {
		pg.p.Error = pg.p.T(errID)
	}
	webui.Render(w, h.Logger, status, "password_set", pg.p)
}

func (h *Handler) servePasswordPost(w http.ResponseWriter, r *http.Request) {
	pg, form, ok := h.postedForm(w, r, passwordPurpose)
	if !ok {
		return
	}
	token, pw := form.Get("token"), form.Get("new_password")
	if msg := validNewPassword(pw, form.Get("confirm_password")); msg != "" {
		h.renderPasswordSet(w, r, pg, http.StatusBadRequest, token, msg)
		return
	}
	ctx := r.Context()
	t, err := h.Store.ConsumePasswordToken(ctx, pg.ws.ID, webui.Hash(token), h.now())
	if errors.Is(err, storage.ErrNotFound) {
		h.errorPage(w, pg, http.StatusBadRequest, "invalid_request", pg.p.T("link_invalid"))
		return
	}
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	err = h.Store.SetUserPassword(ctx, storage.UserPassword{WorkspaceID: pg.ws.ID, UserID: t.UserID, Hash: service.HashPassword(pw), ChangedAt: h.now()})
	if errors.Is(err, storage.ErrNotFound) {
		h.errorPage(w, pg, http.StatusBadRequest, "invalid_request", pg.p.T("link_invalid"))
		return
	}
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	// As for an administrator's reset: end the user's sessions and refresh
	// tokens (SECURITY.md H9).
	if _, err := h.Store.RevokeTokenFamilies(ctx, pg.ws.ID, t.UserID, "", h.now()); err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	if _, err := h.Store.DeleteUserBrowserSessions(ctx, pg.ws.ID, t.UserID); err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	pg.p.Title = pg.p.T("set_password_title")
	pg.p.Data = webui.MessageData{Text: pg.p.T("password_set"), Link: pg.issuer + "/account", LinkText: pg.p.T("sign_in_title")}
	webui.Render(w, h.Logger, http.StatusOK, "message", pg.p)
}
