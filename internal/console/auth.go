package console

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/ratelimit"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// home sends the visitor where they can start: setup when no console
// admin exists, sign-in without a session, else the first workspace.
func (h *Handler) home(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	sess, user, ok := h.loadSession(w, r)
	if !ok {
		if n, err := h.Service.ConsoleUserCount(r.Context(), ""); err == nil && n == 0 && h.Bootstrap != nil {
			redirect(w, r, Prefix+"/setup")
			return
		}
		redirect(w, r, Prefix+"/signin")
		return
	}
	c.user, c.session, c.csrf = user, sess, sessionCSRF(sess)
	ws := h.visibleWorkspaces(r, user)
	if len(ws) == 0 {
		h.renderError(w, r, c, http.StatusOK, "You have no workspace yet. Ask a super admin to give you access.")
		return
	}
	target := ws[0].ID
	for _, w := range ws {
		if w.ID == r.URL.Query().Get("ws") {
			target = w.ID
		}
	}
	to := Prefix + "/w/" + url.PathEscape(target) + "/clients"
	if q := r.URL.Query(); deletedNotice(r) != "" {
		// The confirmation of a deleted workspace follows to the page
		// the admin lands on.
		to += "?" + url.Values{"deleted": {q.Get("deleted")}, "name": {q.Get("name")}}.Encode()
	}
	redirect(w, r, to)
}

type signinData struct {
	Username string
	Setup    bool
}

func (h *Handler) signinForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	c.csrf = h.preSessionToken(w, r)
	h.render(w, r, http.StatusOK, "signin", h.newView(r, c, "Sign in", "", signinData{}))
}

// signin checks the password (argon2id) under per-IP and per-account rate
// limits (429 with Retry-After, SECURITY.md K7) and starts a new session.
// Unknown users and wrong passwords get the same answer (K8). Each attempt
// takes a token from both buckets first, so parallel guesses cannot pass
// the budget; a success gives the address its token back and resets the
// account, so only failures add up (docs/security.md R9).
func (h *Handler) signin(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if !h.checkPreSession(r) {
		h.renderError(w, r, c, http.StatusForbidden, "The form expired. Reload the page and try again.")
		return
	}
	username := strings.ToLower(strings.TrimSpace(r.PostFormValue("username")))
	ipKey, userKey := "ip:"+remoteIP(r), "user:"+username
	if !h.takeSigninAttempt(w, r, c, ipKey, userKey) {
		return
	}
	u, err := h.Service.AuthenticateConsoleUser(r.Context(), username, r.PostFormValue("password"))
	if err != nil {
		if !errors.Is(err, service.ErrBadCredentials) {
			h.refundSigninAttempt(ipKey, userKey)
			h.fail(w, r, c, err)
			return
		}
		c.csrf = h.preSessionToken(w, r)
		v := h.newView(r, c, "Sign in", "", signinData{Username: username})
		v.Error = service.ErrBadCredentials.Error()
		h.render(w, r, http.StatusUnauthorized, "signin", v)
		return
	}
	h.Limiter.Refund(ipKey)
	h.Limiter.Reset(userKey)
	if err := h.startSession(w, r, u); err != nil {
		h.fail(w, r, c, err)
		return
	}
	ctx := service.WithActor(r.Context(), service.Actor{Kind: storage.ActorConsole, ID: u.ID, Name: u.Username, IP: remoteIP(r)})
	h.Service.RecordSignIn(ctx, u)
	redirect(w, r, Prefix+"/")
}

func (h *Handler) signout(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	h.endSession(w, r)
	redirect(w, r, Prefix+"/signin")
}

// setupForm offers "create the first admin" only while no console user
// exists, and only to a visitor who proves the bootstrap admin token.
func (h *Handler) setupForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if !h.setupOpen(w, r, c) {
		return
	}
	c.csrf = h.preSessionToken(w, r)
	h.render(w, r, http.StatusOK, "setup", h.newView(r, c, "Create the first admin", "", nil))
}

func (h *Handler) setupOpen(w http.ResponseWriter, r *http.Request, c *reqCtx) bool {
	n, err := h.Service.ConsoleUserCount(r.Context(), "")
	if err != nil {
		h.fail(w, r, c, err)
		return false
	}
	if n > 0 || h.Bootstrap == nil {
		h.renderError(w, r, c, http.StatusNotFound, "The console already has an admin. Sign in instead.")
		return false
	}
	return true
}

func (h *Handler) setup(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if !h.checkPreSession(r) {
		h.renderError(w, r, c, http.StatusForbidden, "The form expired. Reload the page and try again.")
		return
	}
	if !h.setupOpen(w, r, c) {
		return
	}
	// Wrong bootstrap tokens spend the address's admin-token budget,
	// shared with the admin API; once it is spent the token is not even
	// checked (docs/security.md R8).
	tokenKey := ratelimit.AdminTokenKey(remoteIP(r))
	if wait := h.TokenFailures.Wait(tokenKey); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		h.renderError(w, r, c, http.StatusTooManyRequests, "Too many attempts with a wrong admin token. Wait a little and try again.")
		return
	}
	if !h.Bootstrap(r, r.PostFormValue("bootstrap_token")) {
		h.TokenFailures.Allow(tokenKey)
		c.csrf = h.preSessionToken(w, r)
		v := h.newView(r, c, "Create the first admin", "", nil)
		v.Error = "The bootstrap admin token is not correct."
		h.render(w, r, http.StatusUnauthorized, "setup", v)
		return
	}
	ctx := service.WithActor(r.Context(), service.Actor{Kind: storage.ActorAPIToken, Name: "bootstrap", IP: remoteIP(r)})
	u, err := h.Service.CreateConsoleUser(ctx, service.ConsoleUserInput{
		Username: r.PostFormValue("username"), Email: r.PostFormValue("email"),
		DisplayName: r.PostFormValue("display_name"), Password: r.PostFormValue("password"), Role: storage.RoleSuperAdmin,
	})
	if err != nil {
		c.csrf = h.preSessionToken(w, r)
		v := h.newView(r, c, "Create the first admin", "", nil)
		if status, ok := formErrors(v, err); ok {
			h.render(w, r, status, "setup", v)
			return
		}
		h.fail(w, r, c, err)
		return
	}
	if err := h.startSession(w, r, u); err != nil {
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, Prefix+"/")
}

// takeSigninAttempt takes one attempt from the address's and the account's
// buckets, answering 429 with Retry-After when either is empty; false when
// it has answered. A bucket that had a token keeps it spent only if the
// other refuses: then the attempt is not made and gives it back.
func (h *Handler) takeSigninAttempt(w http.ResponseWriter, r *http.Request, c *reqCtx, ipKey, userKey string) bool {
	ok, retry := h.Limiter.Allow(ipKey)
	if ok {
		if ok, retry = h.Limiter.Allow(userKey); !ok {
			h.Limiter.Refund(ipKey)
		}
	}
	if ok {
		return true
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
	h.renderError(w, r, c, http.StatusTooManyRequests, "Too many sign-in attempts. Wait a little and try again.")
	return false
}

// refundSigninAttempt gives back an attempt that was not the caller's
// failure (a storage error).
func (h *Handler) refundSigninAttempt(ipKey, userKey string) {
	h.Limiter.Refund(ipKey)
	h.Limiter.Refund(userKey)
}
