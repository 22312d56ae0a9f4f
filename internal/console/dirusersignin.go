package console

import (
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// fieldError is one problem the console finds in a form, reported as the
// service layer reports its own.
func fieldError(field, rule, msg string) error {
	return &service.ValidationError{Errors: []service.FieldError{{Field: field, Rule: rule, Message: field + ": " + msg}}}
}

// The sign-in half of a directory user's page: set, expire and e-mail a
// link for the password, and list and revoke the user's browser sessions
// and consents, through the same service methods as the admin API.

// dirUserSignIn is what the user page shows of the user's sign-in.
type dirUserSignIn struct {
	Sessions []storage.BrowserSession
	Consents []storage.Consent
}

func (h *Handler) loadDirUserSignIn(r *http.Request, ws string, u storage.User) (*dirUserSignIn, error) {
	if u.ServiceUser {
		return nil, nil
	}
	sessions, err := h.Service.ListUserSessions(r.Context(), ws, u.ID)
	if err != nil {
		return nil, err
	}
	consents, err := h.Service.ListUserConsents(r.Context(), ws, u.ID)
	if err != nil {
		return nil, err
	}
	return &dirUserSignIn{Sessions: sessions, Consents: consents}, nil
}

// dirUserResult re-renders the user page after one of its actions, with
// the action's errors or notice.
func (h *Handler) dirUserResult(w http.ResponseWriter, r *http.Request, c *reqCtx, err error, notice string) {
	uid := r.PathValue("uid")
	u, gerr := h.Service.GetUser(r.Context(), c.ws, uid)
	if gerr != nil {
		h.fail(w, r, c, gerr)
		return
	}
	v, verr := h.dirUserView(r, c, u, false)
	if verr != nil {
		h.fail(w, r, c, verr)
		return
	}
	v.URL = h.wsURL(c.ws, "/users/"+url.PathEscape(uid))
	if err != nil {
		status, ok := formErrors(v, err)
		if !ok {
			h.fail(w, r, c, err)
			return
		}
		h.render(w, r, status, "dir_user", v)
		return
	}
	v.Notice = notice
	h.render(w, r, http.StatusOK, "dir_user", v)
}

// setDirUserPassword sets the password an administrator chose; the user
// is signed out everywhere (service.SetUserPassword).
func (h *Handler) setDirUserPassword(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	pw, again := r.PostFormValue("password"), r.PostFormValue("password_again")
	if pw != again {
		h.dirUserResult(w, r, c, fieldError("password_again", "match", "the two passwords differ"), "")
		return
	}
	err := h.Service.SetUserPassword(r.Context(), c.ws, r.PathValue("uid"), pw)
	h.dirUserResult(w, r, c, err, "Password set. The user was signed out everywhere and must sign in with the new password.")
}

// sendDirUserPasswordLink e-mails the user a set-password link to the
// workspace's set-password page.
func (h *Handler) sendDirUserPasswordLink(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	to, err := h.Service.SendPasswordLink(r.Context(), c.ws, r.PathValue("uid"), h.BaseURL+"/w/"+url.PathEscape(c.ws)+"/password/set")
	notice := "A set-password link was sent to " + to + ". It works once, for an hour."
	if !h.MailDelivers {
		notice += " No SMTP server is configured: the message waits in the outbox."
	}
	h.dirUserResult(w, r, c, err, notice)
}

// expireDirUserPassword makes the current password stop working at once
// and, when asked, sends a set-password link.
func (h *Handler) expireDirUserPassword(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if r.PostFormValue("confirm") != "on" {
		h.dirUserResult(w, r, c, fieldError("confirm", "required", "tick the box to confirm that the password stops working"), "")
		return
	}
	ctx, uid := r.Context(), r.PathValue("uid")
	err := h.Service.InvalidateUserPassword(ctx, c.ws, uid)
	notice := "The password expired: it no longer works and the user was signed out everywhere."
	if err == nil && r.PostFormValue("send_link") == "on" {
		var to string
		to, err = h.Service.SendPasswordLink(ctx, c.ws, uid, h.BaseURL+"/w/"+url.PathEscape(c.ws)+"/password/set")
		notice += " A set-password link was sent to " + to + "."
	}
	h.dirUserResult(w, r, c, err, notice)
}

// revokeDirUserSession signs one browser session out, or every session
// of the user when the form names none.
func (h *Handler) revokeDirUserSession(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	sid := r.PostFormValue("session_id")
	err := h.Service.RevokeUserSession(r.Context(), c.ws, r.PathValue("uid"), sid)
	notice := "Revoked the session “" + sid + "”: that browser is signed out."
	if sid == "" {
		notice = "Revoked every session: the user is signed out everywhere."
	}
	h.dirUserResult(w, r, c, err, notice)
}

// revokeDirUserConsent deletes the user's consent for a client and the
// client's tokens for the user.
func (h *Handler) revokeDirUserConsent(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	cid := r.PostFormValue("client_id")
	err := h.Service.RevokeUserConsent(r.Context(), c.ws, r.PathValue("uid"), cid)
	h.dirUserResult(w, r, c, err, "Revoked the consent for the client “"+cid+"” and its tokens for this user.")
}
