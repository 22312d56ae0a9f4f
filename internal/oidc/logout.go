package oidc

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// Logout serves RP-initiated logout (OpenID Connect RP-Initiated Logout
// 1.0 §2, §3) at the end_session_endpoint.
type Logout struct {
	Store    storage.Storage
	Keys     KeySource
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

// logoutRequest is the validated request: where to send the browser
// afterwards ("" for our own signed-out page).
type logoutRequest struct {
	redirect string
	state    string
}

func (h *Logout) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ws, _ := endpoint.WorkspaceFromContext(ctx)
	page := webui.Page{
		Localizer: webui.ChooseLanguage(nil, r), Brand: webui.BrandOf(ws),
		Issuer: endpoint.IssuerFromContext(ctx), AssetBase: h.BaseURL,
	}
	lr, err := h.parse(r, ws, page.Issuer)
	if err != nil {
		e := oauth2.AsError(err)
		page.Title = page.T("error_title")
		page.Data = webui.ErrorData{Code: string(e.Code), Description: e.Description}
		webui.Render(w, h.Logger, http.StatusBadRequest, "error", page)
		return
	}
	if err := h.Sessions.End(ctx, w, r, ws.ID); err != nil && h.Logger != nil {
		h.Logger.ErrorContext(ctx, "logout: end session", "workspace", ws.ID, "err", err)
	}
	if lr.redirect != "" {
		webui.SetPageHeaders(w)
		http.Redirect(w, r, withState(lr.redirect, lr.state), http.StatusSeeOther)
		return
	}
	page.Title = page.T("signed_out")
	page.Data = webui.MessageData{Text: page.T("signed_out")}
	webui.Render(w, h.Logger, http.StatusOK, "message", page)
}

// parse validates id_token_hint, client_id and post_logout_redirect_uri:
// the redirect must exactly match one registered for the client named by
// the hint or client_id (§3, SECURITY.md K11).
func (h *Logout) parse(r *http.Request, ws storage.Workspace, issuer string) (logoutRequest, error) {
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(nil, r.Body, maxLogoutBody)
	}
	if err := r.ParseForm(); err != nil {
		return logoutRequest{}, oauth2.NewError(oauth2.ErrInvalidRequest, "malformed request")
	}
	f := r.Form
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
	}
	target := f.Get("post_logout_redirect_uri")
	if target == "" {
		return logoutRequest{}, nil
	}
	if clientID == "" {
		return logoutRequest{}, oauth2.NewError(oauth2.ErrInvalidRequest, "post_logout_redirect_uri needs id_token_hint or client_id")
	}
	c, err := h.Store.GetClient(r.Context(), ws.ID, clientID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !c.Enabled) {
		return logoutRequest{}, oauth2.NewError(oauth2.ErrInvalidRequest, "unknown client")
	}
	if err != nil {
		return logoutRequest{}, unavailable(err)
	}
	if !slices.Contains(c.PostLogoutRedirectURIs, target) {
		return logoutRequest{}, oauth2.NewError(oauth2.ErrInvalidRequest, "post_logout_redirect_uri is not registered for the client")
	}
	return logoutRequest{redirect: target, state: f.Get("state")}, nil
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
