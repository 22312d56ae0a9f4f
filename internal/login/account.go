package login

import (
	"errors"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/logoutchannel"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// AccountData is the account page's data.
type AccountData struct {
	UserName string
	Apps     []AppView
	Message  string
	// SignInRequests are the pending backchannel authentication requests
	// (Handler.PendingRequests), nil without them.
	SignInRequests any
}

// AppView is one connected app (a consent).
type AppView struct {
	ClientID, Name, Scopes string
}

func accountPurpose(wsID string) string { return "account\x00" + wsID }

func (h *Handler) serveAccount(w http.ResponseWriter, r *http.Request) {
	pg, ok := h.begin(w, r)
	if !ok {
		return
	}
	s, ok := h.signedIn(w, r, pg)
	if !ok {
		return
	}
	h.renderAccount(w, r, pg, s, http.StatusOK, "", "")
}

func (h *Handler) renderAccount(w http.ResponseWriter, r *http.Request, pg *page, s webui.Signed, status int, msgID, errID string) {
	consents, err := h.Store.ListConsents(r.Context(), pg.ws.ID, s.User.ID)
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	data := AccountData{UserName: displayName(s.User)}
	if h.PendingRequests != nil {
		if data.SignInRequests, err = h.PendingRequests(w, r, pg.ws.ID, s.User.ID); err != nil {
			h.unavailable(w, r, pg, err)
			return
		}
	}
	for _, c := range consents {
		data.Apps = append(data.Apps, AppView{ClientID: c.ClientID, Name: h.clientName(r, pg.ws.ID, c.ClientID), Scopes: strings.Join(c.Scopes, " ")})
	}
	if msgID != "" {
		data.Message = pg.p.T(msgID)
	}
	if errID != "" {
		pg.p.Error = pg.p.T(errID)
	}
	pg.p.Title = pg.p.T("account_title")
	pg.p.CSRF = h.Sessions.FormCSRF(w, r, accountPurpose(pg.ws.ID))
	pg.p.Data = data
	webui.Render(w, h.Logger, status, "account", pg.p)
}

func displayName(u storage.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// serveAccountPost runs one account action: revoke a connected app, change
// the password, or sign out. Every action needs the CSRF token (K1) and a
// session; nothing changes on GET (K3).
func (h *Handler) serveAccountPost(w http.ResponseWriter, r *http.Request) {
	pg, form, ok := h.postedForm(w, r, accountPurpose)
	if !ok {
		return
	}
	s, ok := h.signedIn(w, r, pg)
	if !ok {
		return
	}
	switch form.Get("action") {
	case "revoke":
		h.revokeApp(w, r, pg, s, form.Get("client_id"))
	case "password":
		h.changePassword(w, r, pg, s, form.Get("current_password"), form.Get("new_password"), form.Get("confirm_password"))
	case "logout":
		h.signOut(w, r, pg)
	default:
		h.errorPage(w, pg, http.StatusBadRequest, "invalid_request", "unknown action")
	}
}

// revokeApp deletes the user's consent for a client and revokes every
// token family the client holds for the user, so its refresh and access
// tokens stop working (OIDC Core §3.1.2.4 leaves revocation to the OP).
func (h *Handler) revokeApp(w http.ResponseWriter, r *http.Request, pg *page, s webui.Signed, clientID string) {
	ctx := r.Context()
	err := h.Store.DeleteConsent(ctx, pg.ws.ID, s.User.ID, clientID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		h.unavailable(w, r, pg, err)
		return
	}
	if clientID != "" {
		if _, err := h.Store.RevokeTokenFamilies(ctx, pg.ws.ID, s.User.ID, clientID, h.now()); err != nil {
			h.unavailable(w, r, pg, err)
			return
		}
	}
	h.renderAccount(w, r, pg, s, http.StatusOK, "access_revoked", "")
}

func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, pg *page, s webui.Signed, current, next, confirm string) {
	ctx := r.Context()
	att, retry, err := h.counters().admit(ctx, pg.ws.ID, []counter{
		{key: ipKey(endpoint.RemoteIP(r)), policy: h.ipPolicy()},
		{key: accountKey(s.User.Username), policy: h.accountPolicy(), resetOnSuccess: true},
	})
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	if retry > 0 {
		w.Header().Set("Retry-After", retryAfter(retry))
		h.renderAccount(w, r, pg, s, http.StatusTooManyRequests, "", "too_many_attempts")
		return
	}
	good, err := h.checkPassword(ctx, s.User, true, current)
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
		h.renderAccount(w, r, pg, s, http.StatusBadRequest, "", "wrong_password")
		return
	}
	if err := att.succeeded(ctx); err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	if msg := validNewPassword(next, confirm); msg != "" {
		h.renderAccount(w, r, pg, s, http.StatusBadRequest, "", msg)
		return
	}
	err = h.Store.SetUserPassword(ctx, storage.UserPassword{WorkspaceID: pg.ws.ID, UserID: s.User.ID, Hash: service.HashPassword(next), ChangedAt: h.now()})
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	// A new password ends every refresh token of the user (SECURITY.md
	// H9): whoever knew the old one may hold tokens. This browser stays
	// signed in.
	if _, err := h.Store.RevokeTokenFamilies(ctx, pg.ws.ID, s.User.ID, "", h.now()); err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	h.renderAccount(w, r, pg, s, http.StatusOK, "password_changed", "")
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, pg *page) {
	// Front-channel logout URIs of the session's clients, read before the
	// session ends (Front-Channel Logout §4); ending it queues the
	// back-channel logout tokens (Back-Channel Logout §2.5).
	frames, err := logoutchannel.CurrentFrames(r.Context(), h.Sessions, h.Store, r, pg.ws.ID, pg.issuer)
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	if err := h.Sessions.End(r.Context(), w, r, pg.ws.ID); err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	pg.p.Title = pg.p.T("signed_out")
	pg.p.Data = webui.MessageData{Text: pg.p.T("signed_out"), Link: pg.issuer + "/account", LinkText: pg.p.T("sign_in_title"), Frames: frames}
	webui.Render(w, h.Logger, http.StatusOK, "message", pg.p)
}
