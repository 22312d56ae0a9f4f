package ciba

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// maxPageForm caps the approval page's form body.
const maxPageForm = 8 << 10

// PendingData is the data of the approval page: the signed-in user's
// pending requests.
type PendingData struct {
	UserName string
	List     RequestList
	Message  string
}

// LinkData is the data of the page an emailed link opens.
type LinkData struct{ Link string }

// RequestView is one pending request as the user sees it.
type RequestView struct {
	// ID names the request in the form: the base64url SHA-256 of its
	// auth_req_id (never the auth_req_id itself).
	ID             string
	Client         string
	Scopes         []ScopeView
	BindingMessage string
}

// ScopeView is one requested scope, in words.
type ScopeView struct{ Name, Description string }

// RequestList is the data of the "ciba-requests" template, which both
// this page and the account page render: the user's pending requests and
// the CSRF token of their Approve and Deny forms.
type RequestList struct {
	webui.Localizer
	Issuer   string
	CSRF     string
	Requests []RequestView
}

func pagePurpose(wsID string) string { return "ciba\x00" + wsID }
func linkPurpose(wsID string) string { return "ciba-link\x00" + wsID }

type page struct {
	ws     storage.Workspace
	issuer string
	p      webui.Page
}

func (h *Handler) newPage(r *http.Request) *page {
	ws, _ := endpoint.WorkspaceFromContext(r.Context())
	issuer := endpoint.IssuerFromContext(r.Context())
	return &page{ws: ws, issuer: issuer, p: webui.Page{
		Localizer: webui.ChooseLanguage(nil, r), Brand: webui.BrandOf(ws), Issuer: issuer, AssetBase: h.BaseURL,
	}}
}

// servePage shows the link page (?link=...) or the signed-in user's
// pending requests. A GET never spends a link nor decides anything: mail
// scanners that open links change nothing (SECURITY.md K3).
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	pg := h.newPage(r)
	if link := r.URL.Query().Get("link"); link != "" {
		pg.p.Title = pg.p.T("ciba_title")
		pg.p.CSRF = h.Sessions.FormCSRF(w, r, linkPurpose(pg.ws.ID))
		pg.p.Data = LinkData{Link: link}
		webui.Render(w, h.Logger, http.StatusOK, "ciba_link", pg.p)
		return
	}
	signed, ok := h.signedIn(w, r, pg)
	if !ok {
		return
	}
	h.renderPending(w, r, pg, signed, http.StatusOK, "")
}

func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request, pg *page) (webui.Signed, bool) {
	signed, in, err := h.Sessions.Current(r.Context(), r, pg.ws.ID)
	if err != nil {
		h.unavailable(w, r, pg, err)
		return signed, false
	}
	if !in {
		webui.SetPageHeaders(w)
		w.Header().Set("Location", pg.issuer+"/login?return_to="+url.QueryEscape("/ciba"))
		w.WriteHeader(http.StatusSeeOther)
		return signed, false
	}
	return signed, true
}

func (h *Handler) renderPending(w http.ResponseWriter, r *http.Request, pg *page, s webui.Signed, status int, msgID string) {
	pending, err := h.PendingFor(w, r, pg.ws.ID, s.User.ID)
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	data := PendingData{UserName: userName(s.User), List: pending}
	if msgID != "" {
		data.Message = pg.p.T(msgID)
	}
	pg.p.Title = pg.p.T("ciba_title")
	pg.p.CSRF = pending.CSRF
	pg.p.Data = data
	webui.Render(w, h.Logger, status, "ciba", pg.p)
}

// PendingFor lists a user's pending requests with the CSRF token of their
// forms (for this page and the account page).
func (h *Handler) PendingFor(w http.ResponseWriter, r *http.Request, wsID, userID string) (RequestList, error) {
	ctx := r.Context()
	list, err := h.Store.ListPendingCIBARequests(ctx, wsID, userID, h.now())
	if err != nil {
		return RequestList{}, err
	}
	loc := webui.ChooseLanguage(nil, r)
	out := RequestList{Localizer: loc, Issuer: endpoint.Issuer(h.BaseURL, wsID)}
	if len(list) == 0 {
		return out, nil
	}
	out.CSRF = h.Sessions.FormCSRF(w, r, pagePurpose(wsID))
	refs, err := h.Store.ListScopes(ctx, wsID)
	if err != nil {
		return RequestList{}, err
	}
	for _, req := range list {
		name := req.ClientID
		if c, err := h.Store.GetClient(ctx, wsID, req.ClientID); err == nil && c.Name != "" {
			name = c.Name
		}
		out.Requests = append(out.Requests, RequestView{
			ID: base64.RawURLEncoding.EncodeToString(req.Hash), Client: name,
			Scopes: scopeViews(loc, refs, req.Scopes), BindingMessage: req.BindingMessage,
		})
	}
	return out, nil
}

// scopeViews describes scopes in words: the OpenID scopes by the
// catalogue, API scopes by their service's description.
func scopeViews(loc webui.Localizer, refs []storage.ScopeRef, scopes []string) []ScopeView {
	var out []ScopeView
	for _, s := range scopes {
		v := ScopeView{Name: s, Description: s}
		if slices.Contains(oidc.StandardScopes, s) {
			v.Description = loc.T("scope_" + s)
		} else if i := slices.IndexFunc(refs, func(r storage.ScopeRef) bool { return r.Name == s }); i >= 0 && refs[i].Description != "" {
			v.Description = refs[i].Description
		}
		out = append(out, v)
	}
	return out
}

// servePost handles the link form (action link) and the decisions
// (approve, deny). Every POST needs the browser's CSRF token for its form
// (SECURITY.md K1).
func (h *Handler) servePost(w http.ResponseWriter, r *http.Request) {
	pg := h.newPage(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxPageForm)
	if err := r.ParseForm(); err != nil || repeated(r.PostForm) {
		h.errorPage(w, pg, http.StatusBadRequest, "invalid_request", "malformed form")
		return
	}
	form := r.PostForm
	action := form.Get("action")
	purpose := pagePurpose(pg.ws.ID)
	if action == "link" {
		purpose = linkPurpose(pg.ws.ID)
	}
	if !h.Sessions.CheckCSRF(r, form.Get("csrf_token"), purpose) {
		h.errorPage(w, pg, http.StatusForbidden, "access_denied", pg.p.T("forbidden"))
		return
	}
	switch action {
	case "link":
		h.useLink(w, r, pg, form.Get("link"))
	case "approve", "deny":
		signed, ok := h.signedIn(w, r, pg)
		if !ok {
			return
		}
		h.decide(w, r, pg, signed, form.Get("request"), action == "approve")
	default:
		h.errorPage(w, pg, http.StatusBadRequest, "invalid_request", "unknown action")
	}
}

func repeated(form url.Values) bool {
	for _, v := range form {
		if len(v) > 1 {
			return true
		}
	}
	return false
}

// useLink spends an emailed link (one conditional update: single use,
// only while the request is pending) and signs its user in when this
// browser is not already signed in as them; the browser then sees the
// pending requests. Possession of the link proves access to the user's
// mailbox, as a password reset link does (amr "otp", RFC 8176 §2).
func (h *Handler) useLink(w http.ResponseWriter, r *http.Request, pg *page, link string) {
	ctx := r.Context()
	if link == "" || len(link) > 128 {
		h.errorPage(w, pg, http.StatusBadRequest, "invalid_request", pg.p.T("link_invalid"))
		return
	}
	req, err := h.Store.UseCIBALink(ctx, pg.ws.ID, webui.Hash(link), h.now())
	if errors.Is(err, storage.ErrNotFound) {
		h.errorPage(w, pg, http.StatusBadRequest, "invalid_request", pg.p.T("link_invalid"))
		return
	}
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	signed, in, err := h.Sessions.Current(ctx, r, pg.ws.ID)
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	if !in || signed.User.ID != req.UserID {
		user, err := h.Store.GetUser(ctx, pg.ws.ID, req.UserID)
		if err != nil || !user.Active || user.ServiceUser {
			h.errorPage(w, pg, http.StatusBadRequest, "invalid_request", pg.p.T("link_invalid"))
			return
		}
		if _, err := h.Sessions.Start(ctx, w, r, user, []string{"otp"}); err != nil {
			h.unavailable(w, r, pg, err)
			return
		}
	}
	webui.SetPageHeaders(w)
	w.Header().Set("Location", PagePath(pg.issuer))
	w.WriteHeader(http.StatusSeeOther)
}

// decide records the signed-in user's decision on one of their pending
// requests. On Approve the client's user policy (or the workspace
// default) and the access policies of the requested scopes run with the
// approving user, as at the authorization endpoint; a denial by policy is
// recorded as a denial (the client gets access_denied, CIBA Core §11).
// The decision is one conditional update, so a request is decided once;
// a ping-mode client is then notified (§10.2).
func (h *Handler) decide(w http.ResponseWriter, r *http.Request, pg *page, s webui.Signed, id string, approve bool) {
	ctx := r.Context()
	hash, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(hash) != 32 {
		h.renderPending(w, r, pg, s, http.StatusBadRequest, "ciba_invalid")
		return
	}
	req, err := h.Store.GetCIBARequest(ctx, pg.ws.ID, hash)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (req.UserID != s.User.ID || req.Status != storage.DevicePending)) {
		h.renderPending(w, r, pg, s, http.StatusBadRequest, "ciba_invalid")
		return
	}
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	client, err := h.Store.GetClient(ctx, pg.ws.ID, req.ClientID)
	if err != nil || !client.Enabled {
		h.renderPending(w, r, pg, s, http.StatusBadRequest, "ciba_invalid")
		return
	}
	dec := storage.DeviceDecision{UserID: s.User.ID}
	var denied *oauth2.Error
	if approve {
		denied, err = h.checkPolicies(ctx, pg.ws, client, s.User, req.Scopes, endpoint.RemoteIP(r))
		if err != nil {
			h.unavailable(w, r, pg, err)
			return
		}
		if denied == nil {
			dec = storage.DeviceDecision{Approved: true, UserID: s.User.ID, SessionID: s.Session.ID,
				AuthTime: s.Session.AuthTime, AMR: s.Session.AMR, ACR: s.Session.ACR}
		}
	}
	err = h.Store.DecideCIBARequest(ctx, pg.ws.ID, hash, h.now(), dec)
	if errors.Is(err, storage.ErrNotFound) {
		h.renderPending(w, r, pg, s, http.StatusBadRequest, "ciba_invalid")
		return
	}
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	if h.Logger != nil {
		h.Logger.InfoContext(ctx, "backchannel authentication request decided", "workspace", pg.ws.ID,
			"client_id", req.ClientID, "user_id", s.User.ID, "approved", dec.Approved)
	}
	h.notify(pg.ws.ID, req)
	if denied != nil {
		h.errorPage(w, pg, http.StatusForbidden, string(denied.Code), denied.Description)
		return
	}
	msg := "ciba_denied"
	if dec.Approved {
		msg = "ciba_approved"
	}
	h.renderPending(w, r, pg, s, http.StatusOK, msg)
}

// checkPolicies runs the client's user policy (or the workspace's
// default), then the access policy of each requested scope's service,
// with the user. A denial is access_denied with the rule's message.
func (h *Handler) checkPolicies(ctx context.Context, ws storage.Workspace, client storage.Client, user storage.User, scopes []string, ip string) (*oauth2.Error, error) {
	if h.Policies == nil {
		return nil, nil
	}
	ids := []string{client.UserPolicyID}
	if ids[0] == "" {
		ids[0] = ws.Settings.DefaultUserPolicyID
	}
	catalog, err := storage.IndexScopes(ctx, h.Store, ws.ID)
	if err != nil {
		return nil, err
	}
	ids = append(ids, policy.AccessPolicies(catalog.RefsOf(scopes), scopes)...)
	in := policy.Input{
		User: policy.FromUser(user), Client: policy.FromClient(client), Workspace: policy.Workspace{ID: ws.ID},
		Request: policy.Request{GrantType: oauth2.GrantCIBA, Scopes: scopes, RemoteIP: ip, Time: h.now()},
	}
	for _, id := range ids {
		if id == "" {
			continue
		}
		dec, err := h.Policies.Check(ctx, ws.ID, id, in)
		if err != nil {
			return nil, err
		}
		if !dec.Allow {
			return oauth2.NewError(oauth2.ErrAccessDenied, dec.Message).WithStatus(http.StatusForbidden), nil
		}
	}
	return nil, nil
}

// mailLink e-mails the user the one-time approval link, when a mailer is
// configured and the user has an address. The link only opens the
// approval page; a failure to send is logged and the request stands (the
// user can still approve on their account page).
func (h *Handler) mailLink(ctx context.Context, ws storage.Workspace, issuer string, req *request, link string) {
	if h.Mailer == nil || req.user.Email == "" {
		return
	}
	brand := webui.BrandOf(ws).Name
	client := req.client.Name
	if client == "" {
		client = req.client.ID
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s asks you to sign in with your %s account.\n\n", client, brand)
	if req.binding != "" {
		fmt.Fprintf(&b, "It shows this code: %s\nOnly continue if the same code is shown where you started.\n\n", req.binding)
	}
	fmt.Fprintf(&b, "Review the request (this link works once and expires in %d minutes):\n%s?link=%s\n\n",
		int(req.lifetime.Minutes()+0.5), PagePath(issuer), url.QueryEscape(link))
	b.WriteString("If you did not expect this, ignore this message or deny the request.\n")
	err := h.Mailer.SendMail(ctx, req.user.Email, "Sign-in request from "+oneLine(client), b.String())
	if err != nil && h.Logger != nil {
		h.Logger.WarnContext(ctx, "backchannel authentication mail not sent", "workspace", ws.ID, "client_id", req.client.ID)
	}
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

func userName(u storage.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

func (h *Handler) errorPage(w http.ResponseWriter, pg *page, status int, code, desc string) {
	pg.p.Title = pg.p.T("error_title")
	pg.p.Data = webui.ErrorData{Code: code, Description: desc}
	webui.Render(w, h.Logger, status, "error", pg.p)
}

// unavailable answers a storage failure: 503 with Retry-After.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, pg *page, err error) {
	e := endpoint.ErrUnavailable(err)
	endpoint.LogFailure(r.Context(), h.Logger, "backchannel authentication page failed", e, slog.String("workspace", pg.ws.ID))
	w.Header().Set("Retry-After", strconv.Itoa(oauth2.DefaultRetryAfterSeconds))
	h.errorPage(w, pg, e.HTTPStatus(), string(e.Code), e.Description)
}
