package oidc

import (
	"cmp"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/logoutchannel"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// Logout serves RP-initiated logout (OpenID Connect RP-Initiated Logout
// 1.0 §2, §3) at the end_session_endpoint.
//
// A request only ends the browser's session at once when its
// id_token_hint names the signed-in user; any other request (no hint, a
// hint for someone else) is answered with a confirmation page whose POST
// carries the browser's CSRF token: a cross-site link cannot sign anyone
// out (RP-Initiated Logout §6, SECURITY.md W8).
type Logout struct {
	Store    storage.Storage
	Keys     KeySource
	Subjects *Subjects
	Sessions *webui.Sessions
	BaseURL  string
	Logger   *slog.Logger
}

// Mount registers GET and POST /w/{ws}/oauth2/logout behind workspace
// resolution, whose failures are pages.
func (h *Logout) Mount(mux *http.ServeMux) {
	workspaces := endpoint.Workspaces{Store: h.Store, BaseURL: h.BaseURL, Logger: h.Logger}
	pageErrors := endpoint.PageErrors(h.BaseURL, h.Logger)
	mux.Handle("GET /w/{ws}/oauth2/logout", workspaces.Resolve(h.serve, pageErrors))
	mux.Handle("POST /w/{ws}/oauth2/logout", workspaces.Resolve(h.serve, pageErrors))
}

// maxLogoutBody caps a POSTed logout request.
const maxLogoutBody = 32 << 10

// The actions of the confirmation form. A POST carrying "action" in its
// body is that form, never a logout request of a relying party (§2 defines
// no such parameter), so it must carry the CSRF token.
const (
	actionSignOut = "logout"
	actionStay    = "stay"
)

func logoutPurpose(wsID string) string { return "logout\x00" + wsID }

// logoutRequest is the validated request.
type logoutRequest struct {
	// hint is the verified id_token_hint, nil without one.
	hint *Hint
	// client is the client named by the hint or client_id, nil when
	// neither names an enabled client.
	client *storage.Client
	// redirect is where to send the browser afterwards ("" for our own
	// signed-out page), with state to pass back.
	redirect string
	state    string
	// uiLocales is passed on to the confirmation form (§2).
	uiLocales string
}

// LogoutConfirmData is the data of the confirmation page: the client that
// asked, when known, and the validated parameters the form posts back.
type LogoutConfirmData struct {
	ClientName string
	Fields     []webui.Field
}

func (h *Logout) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ws, _ := endpoint.WorkspaceFromContext(ctx)
	page := webui.Page{
		Localizer: webui.ChooseLanguage(nil, r), Brand: webui.BrandOf(ws),
		Issuer: endpoint.IssuerFromContext(ctx), AssetBase: h.BaseURL,
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxLogoutBody)
	}
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, page, oauth2.NewError(oauth2.ErrInvalidRequest, "malformed request"))
		return
	}
	page.Localizer = webui.ChooseLanguage(strings.Fields(r.Form.Get("ui_locales")), r)
	confirmation := r.Method == http.MethodPost && r.PostForm.Has("action")
	if confirmation && !h.Sessions.CheckCSRF(r, r.PostForm.Get("csrf_token"), logoutPurpose(ws.ID)) {
		h.fail(w, r, page, oauth2.NewError(oauth2.ErrAccessDenied, page.T("forbidden")).WithStatus(http.StatusForbidden))
		return
	}
	lr, err := h.parse(r, ws, page.Issuer)
	if err != nil {
		h.fail(w, r, page, err)
		return
	}
	if confirmation {
		h.confirmed(w, r, page, ws.ID, lr)
		return
	}
	signed, in, err := h.Sessions.Current(ctx, r, ws.ID)
	if err != nil {
		h.fail(w, r, page, unavailable(err))
		return
	}
	if !in {
		// Nothing to end; a stale cookie is still cleared.
		h.signOut(w, r, page, ws.ID, lr)
		return
	}
	mine, err := h.hintNamesUser(r, lr, signed.User)
	if err != nil {
		h.fail(w, r, page, unavailable(err))
		return
	}
	if mine {
		h.signOut(w, r, page, ws.ID, lr)
		return
	}
	h.askConfirmation(w, r, page, ws.ID, lr)
}

// hintNamesUser reports whether the request's id_token_hint is an ID token
// of user: its sub is the subject the hint's client sees for the user,
// public or pairwise (OIDC Core §8). The hint was verified against this
// workspace's keys and issuer, so a user of another workspace never
// matches; lr.client is the hint's audience.
func (h *Logout) hintNamesUser(r *http.Request, lr logoutRequest, user storage.User) (bool, error) {
	if lr.hint == nil || lr.client == nil {
		return false, nil
	}
	sub, err := h.Subjects.Subject(r.Context(), *lr.client, user)
	var protocol *oauth2.Error
	if errors.As(err, &protocol) {
		return false, nil // the user has no sub for this client: the hint names someone else
	}
	if err != nil {
		return false, err
	}
	return sub == lr.hint.Subject, nil
}

// askConfirmation shows the page that asks the user whether to sign out
// (RP-Initiated Logout §6: "OPs should obtain explicit confirmation from
// the End-User before acting upon them").
func (h *Logout) askConfirmation(w http.ResponseWriter, r *http.Request, page webui.Page, wsID string, lr logoutRequest) {
	data := LogoutConfirmData{}
	if lr.client != nil {
		data.ClientName = cmp.Or(lr.client.Name, lr.client.ID)
		data.Fields = append(data.Fields, webui.Field{Name: "client_id", Value: lr.client.ID})
	}
	for _, f := range []webui.Field{
		{Name: "post_logout_redirect_uri", Value: lr.redirect}, {Name: "state", Value: lr.state}, {Name: "ui_locales", Value: lr.uiLocales},
	} {
		if f.Value != "" {
			data.Fields = append(data.Fields, f)
		}
	}
	page.Title = page.T("logout_title", page.Brand.Name)
	page.CSRF = h.Sessions.FormCSRF(w, r, logoutPurpose(wsID))
	page.Data = data
	webui.Render(w, h.Logger, http.StatusOK, "logout_confirm", page)
}

// confirmed runs the button the user pressed on the confirmation page.
func (h *Logout) confirmed(w http.ResponseWriter, r *http.Request, page webui.Page, wsID string, lr logoutRequest) {
	switch r.PostForm.Get("action") {
	case actionSignOut:
		h.signOut(w, r, page, wsID, lr)
	case actionStay:
		// No redirect to post_logout_redirect_uri: RP-Initiated Logout §3
		// leaves what happens to the OP, and that redirect (with state)
		// tells the relying party the logout it asked for took place,
		// which it did not; the user stays here, still signed in.
		page.Title = page.T("still_signed_in")
		page.Data = webui.MessageData{Text: page.T("still_signed_in")}
		webui.Render(w, h.Logger, http.StatusOK, "message", page)
	default:
		h.fail(w, r, page, oauth2.NewError(oauth2.ErrInvalidRequest, "unknown action"))
	}
}

// signOut ends the browser's session in the workspace, then redirects to
// the validated post_logout_redirect_uri with state (§3) or shows the
// signed-out page.
func (h *Logout) signOut(w http.ResponseWriter, r *http.Request, page webui.Page, wsID string, lr logoutRequest) {
	ctx := r.Context()
	// The front-channel logout URIs of the session's clients, read before
	// the session ends (Front-Channel Logout §4); ending it queues the
	// back-channel logout tokens (Back-Channel Logout §2.5).
	frames, err := logoutchannel.CurrentFrames(ctx, h.Sessions, h.Store, r, wsID, page.Issuer)
	if err != nil {
		h.fail(w, r, page, unavailable(err))
		return
	}
	if err := h.Sessions.End(ctx, w, r, wsID); err != nil {
		h.fail(w, r, page, unavailable(err))
		return
	}
	if lr.redirect != "" && len(frames) == 0 {
		webui.SetPageHeaders(w)
		http.Redirect(w, r, withState(lr.redirect, lr.state), http.StatusSeeOther)
		return
	}
	page.Title = page.T("signed_out")
	page.Data = webui.MessageData{Text: page.T("signed_out"), Frames: frames}
	if lr.redirect != "" {
		// The frames must load in this page before the browser leaves
		// it (§4): a script follows the link once they have loaded or
		// after a timeout; without JavaScript the user follows it.
		page.Data = webui.MessageData{Text: page.T("signed_out"), Frames: frames,
			Link: withState(lr.redirect, lr.state), LinkText: page.T("continue"), FollowLink: true}
	}
	webui.Render(w, h.Logger, http.StatusOK, "message", page)
}

// fail renders the error page with the error's status: 400 for a bad
// request, 403 for a form without its CSRF token, 503 with Retry-After
// when storage or the keys fail (docs/security.md R5). Internal detail is
// only logged.
func (h *Logout) fail(w http.ResponseWriter, r *http.Request, page webui.Page, err error) {
	e := oauth2.AsError(err)
	ws, _ := endpoint.WorkspaceFromContext(r.Context())
	endpoint.LogFailure(r.Context(), h.Logger, "logout request failed", e, slog.String("workspace", ws.ID))
	status := e.HTTPStatus()
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(oauth2.DefaultRetryAfterSeconds))
	}
	page.Title = page.T("error_title")
	page.Data = webui.ErrorData{Code: string(e.Code), Description: e.Description}
	webui.Render(w, h.Logger, status, "error", page)
}

// parse validates id_token_hint, client_id and post_logout_redirect_uri:
// the redirect must exactly match one registered for the client named by
// the hint or client_id (§3, SECURITY.md K11).
func (h *Logout) parse(r *http.Request, ws storage.Workspace, issuer string) (logoutRequest, error) {
	f := r.Form
	lr := logoutRequest{uiLocales: f.Get("ui_locales")}
	clientID := f.Get("client_id")
	if raw := f.Get("id_token_hint"); raw != "" {
		keys, err := h.Keys.PublicKeys(r.Context(), ws.ID)
		if err != nil {
			return logoutRequest{}, unavailable(err)
		}
		hint, err := VerifyHint(raw, keys, issuer)
		if err != nil {
			return logoutRequest{}, oauth2.NewError(oauth2.ErrInvalidRequest, "id_token_hint is not a valid ID token of this issuer")
		}
		if clientID != "" && !slices.Contains(hint.Audience, clientID) {
			return logoutRequest{}, oauth2.NewError(oauth2.ErrInvalidRequest, "client_id does not match id_token_hint")
		}
		clientID = hint.Audience[0]
		lr.hint = &hint
	}
	if clientID != "" {
		c, err := h.Store.GetClient(r.Context(), ws.ID, clientID)
		switch {
		case err == nil && c.Enabled:
			lr.client = &c
		case err != nil && !errors.Is(err, storage.ErrNotFound):
			return logoutRequest{}, unavailable(err)
		}
	}
	target := f.Get("post_logout_redirect_uri")
	if target == "" {
		return lr, nil
	}
	if clientID == "" {
		return logoutRequest{}, oauth2.NewError(oauth2.ErrInvalidRequest, "post_logout_redirect_uri needs id_token_hint or client_id")
	}
	if lr.client == nil {
		return logoutRequest{}, oauth2.NewError(oauth2.ErrInvalidRequest, "unknown client")
	}
	if !slices.Contains(lr.client.PostLogoutRedirectURIs, target) {
		return logoutRequest{}, oauth2.NewError(oauth2.ErrInvalidRequest, "post_logout_redirect_uri is not registered for the client")
	}
	lr.redirect, lr.state = target, f.Get("state")
	return lr, nil
}

func withState(target, state string) string {
	if state == "" {
		return target
	}
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	q := u.Query()
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return strings.TrimSuffix(u.String(), "?")
}
