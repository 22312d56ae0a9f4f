package device

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// maxPageForm caps the device page's form body.
const maxPageForm = 8 << 10

// EntryData is the data of the code entry page.
type EntryData struct {
	UserCode string
	UserName string
}

// ConfirmData is the data of the confirmation page.
type ConfirmData struct {
	UserCode string
	Client   ClientView
	Groups   []ScopeGroup
	UserName string
}

// ClientView is the client as people see it; the logo is https only
// (SECURITY.md K10).
type ClientView struct{ Name, LogoURI string }

// ScopeGroup is the requested scopes of one service.
type ScopeGroup struct {
	Service string
	Scopes  []ScopeView
}

// ScopeView is one requested scope, in words.
type ScopeView struct{ Name, Description string }

// page is one request of the device page.
type page struct {
	ws     storage.Workspace
	issuer string
	p      webui.Page
	signed webui.Signed
}

func entryPurpose(wsID string) string   { return "device\x00" + wsID }
func confirmPurpose(wsID string) string { return "device-confirm\x00" + wsID }

// begin resolves the workspace and the signed-in user. A browser that is
// not signed in is sent to the sign-in page, which returns here with the
// code it was given (RFC 8628 §3.3: "the end user ... authenticates").
// ok is false when a response has been written.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request, userCode string) (*page, bool) {
	ws, ok := endpoint.WorkspaceFromContext(r.Context())
	if !ok {
		endpoint.PageErrors(h.BaseURL, h.Logger)(w, r, endpoint.ErrUnknownWorkspace())
		return nil, false
	}
	issuer := endpoint.IssuerFromContext(r.Context())
	pg := &page{ws: ws, issuer: issuer, p: webui.Page{
		Localizer: webui.ChooseLanguage(nil, r), Brand: webui.BrandOf(ws), Issuer: issuer, AssetBase: h.BaseURL,
	}}
	signed, in, err := h.Sessions.Current(r.Context(), r, ws.ID)
	if err != nil {
		h.unavailable(w, r, pg, err)
		return nil, false
	}
	if !in {
		seeOther(w, issuer+"/login?return_to="+url.QueryEscape(returnPath(userCode)))
		return nil, false
	}
	pg.signed = signed
	return pg, true
}

// returnPath is where the sign-in page sends the browser back: the device
// page, with the code when it is well formed (nothing else is carried).
func returnPath(userCode string) string {
	if code, ok := NormalizeUserCode(userCode); ok {
		return "/device?user_code=" + FormatUserCode(code)
	}
	return "/device"
}

// servePage shows the code entry form, prefilled from
// verification_uri_complete (RFC 8628 §3.3.1). A GET never looks a code up
// or decides anything: the user still confirms (§5.4; SECURITY.md V6).
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	given := r.URL.Query().Get("user_code")
	pg, ok := h.begin(w, r, given)
	if !ok {
		return
	}
	prefill := ""
	if code, ok := NormalizeUserCode(given); ok {
		prefill = FormatUserCode(code)
	}
	h.renderEntry(w, r, pg, http.StatusOK, prefill, "")
}

func (h *Handler) renderEntry(w http.ResponseWriter, r *http.Request, pg *page, status int, userCode, errID string) {
	pg.p.Title = pg.p.T("device_title")
	pg.p.CSRF = h.Sessions.FormCSRF(w, r, entryPurpose(pg.ws.ID))
	pg.p.Data = EntryData{UserCode: userCode, UserName: userName(pg.signed.User)}
	if errID != "" {
		pg.p.Error = pg.p.T(errID)
	}
	webui.Render(w, h.Logger, status, "device", pg.p)
}

// servePost handles the entry form (action lookup) and the confirmation
// (approve, deny). Every POST needs the browser's CSRF token for its form
// (SECURITY.md K1, V6) and a signed-in user.
func (h *Handler) servePost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxPageForm)
	if err := r.ParseForm(); err != nil || repeated(r.PostForm) {
		h.errorPlain(w, r, http.StatusBadRequest, "invalid_request", "malformed form")
		return
	}
	form := r.PostForm
	pg, ok := h.begin(w, r, form.Get("user_code"))
	if !ok {
		return
	}
	action := form.Get("action")
	purpose := entryPurpose(pg.ws.ID)
	if action == "approve" || action == "deny" {
		purpose = confirmPurpose(pg.ws.ID)
	}
	if !h.Sessions.CheckCSRF(r, form.Get("csrf_token"), purpose) {
		h.errorPage(w, pg, http.StatusForbidden, "access_denied", pg.p.T("forbidden"))
		return
	}
	switch action {
	case "lookup", "approve", "deny":
	default:
		h.errorPage(w, pg, http.StatusBadRequest, "invalid_request", "unknown action")
		return
	}
	d, client, ok := h.lookup(w, r, pg, form.Get("user_code"))
	if !ok {
		return
	}
	switch action {
	case "lookup":
		h.renderConfirm(w, r, pg, d, client)
	case "approve":
		h.approve(w, r, pg, d, client)
	case "deny":
		h.decide(w, r, pg, d, storage.DeviceDecision{UserID: pg.signed.User.ID}, "device_denied")
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

// lookup finds the pending authorization of a typed user code within the
// entry budgets (limits.go). Every failure shows the same message (V2).
func (h *Handler) lookup(w http.ResponseWriter, r *http.Request, pg *page, input string) (storage.DeviceCode, storage.Client, bool) {
	keys := keysOf(pg.ws.ID, pg.signed.User.ID, endpoint.RemoteIP(r))
	if wait := h.limiters.wait(keys); wait > 0 {
		h.tooMany(w, r, pg, wait)
		return storage.DeviceCode{}, storage.Client{}, false
	}
	wrong := func() {
		h.limiters.wrong(keys)
		h.renderEntry(w, r, pg, http.StatusBadRequest, "", "device_invalid")
	}
	code, ok := NormalizeUserCode(input)
	if !ok {
		wrong()
		return storage.DeviceCode{}, storage.Client{}, false
	}
	d, err := h.Store.GetDeviceCodeByUserCode(r.Context(), pg.ws.ID, webui.Hash(code), h.now())
	if errors.Is(err, storage.ErrNotFound) {
		wrong()
		return d, storage.Client{}, false
	}
	if err != nil {
		h.unavailable(w, r, pg, err)
		return d, storage.Client{}, false
	}
	if ok, wait := h.limiters.found(pg.ws.ID, d.Hash); !ok {
		h.tooMany(w, r, pg, wait)
		return d, storage.Client{}, false
	}
	client, err := h.Store.GetClient(r.Context(), pg.ws.ID, d.ClientID)
	if err != nil || !client.Enabled {
		h.renderEntry(w, r, pg, http.StatusBadRequest, "", "device_invalid")
		return d, client, false
	}
	return d, client, true
}

// renderConfirm shows who asks for what, with the code to compare
// against the device's (RFC 8628 §5.4 remote phishing).
func (h *Handler) renderConfirm(w http.ResponseWriter, r *http.Request, pg *page, d storage.DeviceCode, client storage.Client) {
	groups, err := h.scopeGroups(r, pg, d.Scopes)
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	code := ""
	if c, ok := NormalizeUserCode(r.PostForm.Get("user_code")); ok {
		code = FormatUserCode(c)
	}
	pg.p.Title = pg.p.T("device_confirm_title")
	pg.p.CSRF = h.Sessions.FormCSRF(w, r, confirmPurpose(pg.ws.ID))
	pg.p.Data = ConfirmData{UserCode: code, Client: clientView(client), Groups: groups, UserName: userName(pg.signed.User)}
	webui.Render(w, h.Logger, http.StatusOK, "device_confirm", pg.p)
}

// approve runs the user policy and the access policies of the requested
// scopes, as the authorization endpoint does after sign-in; a denial is
// recorded (the device gets access_denied) and shown with the rule's
// message. Then the approval is recorded with the sign-in it rests on.
func (h *Handler) approve(w http.ResponseWriter, r *http.Request, pg *page, d storage.DeviceCode, client storage.Client) {
	denied, err := h.checkPolicies(r, pg, d, client)
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	if denied != nil {
		err := h.Store.DecideDeviceCode(r.Context(), pg.ws.ID, d.Hash, h.now(), storage.DeviceDecision{UserID: pg.signed.User.ID})
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			h.unavailable(w, r, pg, err)
			return
		}
		h.errorPage(w, pg, http.StatusForbidden, string(denied.Code), denied.Description)
		return
	}
	s := pg.signed.Session
	h.decide(w, r, pg, d, storage.DeviceDecision{
		Approved: true, UserID: pg.signed.User.ID, SessionID: s.ID, AuthTime: s.AuthTime, AMR: s.AMR, ACR: s.ACR,
	}, "device_approved")
}

// decide records the decision; the conditional update is the single-use
// gate of the confirmation (a decided or expired code is "invalid").
func (h *Handler) decide(w http.ResponseWriter, r *http.Request, pg *page, d storage.DeviceCode, dec storage.DeviceDecision, doneID string) {
	err := h.Store.DecideDeviceCode(r.Context(), pg.ws.ID, d.Hash, h.now(), dec)
	if errors.Is(err, storage.ErrNotFound) {
		h.renderEntry(w, r, pg, http.StatusBadRequest, "", "device_invalid")
		return
	}
	if err != nil {
		h.unavailable(w, r, pg, err)
		return
	}
	if h.Logger != nil {
		h.Logger.InfoContext(r.Context(), "device authorization decided", "workspace", pg.ws.ID,
			"client_id", d.ClientID, "user_id", dec.UserID, "approved", dec.Approved)
	}
	pg.p.Title = pg.p.T("device_title")
	pg.p.Data = webui.MessageData{Text: pg.p.T(doneID)}
	webui.Render(w, h.Logger, http.StatusOK, "message", pg.p)
}

// scopeGroups groups the requested scopes by service: the OpenID scopes
// first under "Your identity", then each service's with its descriptions
// (as the consent page shows them).
func (h *Handler) scopeGroups(r *http.Request, pg *page, scopes []string) ([]ScopeGroup, error) {
	refs, err := h.Store.ListScopes(r.Context(), pg.ws.ID)
	if err != nil {
		return nil, err
	}
	identity := ScopeGroup{Service: pg.p.T("service_identity")}
	var groups []ScopeGroup
	for _, name := range scopes {
		if slices.Contains(oidc.StandardScopes, name) {
			identity.Scopes = append(identity.Scopes, ScopeView{Name: name, Description: pg.p.T("scope_" + name)})
			continue
		}
		groups = h.addServiceScope(r, pg.ws.ID, groups, refs, name)
	}
	if len(identity.Scopes) > 0 {
		groups = append([]ScopeGroup{identity}, groups...)
	}
	return groups, nil
}

func (h *Handler) addServiceScope(r *http.Request, wsID string, groups []ScopeGroup, refs []storage.ScopeRef, name string) []ScopeGroup {
	i := slices.IndexFunc(refs, func(ref storage.ScopeRef) bool { return ref.Name == name })
	if i < 0 {
		return groups
	}
	ref := refs[i]
	service := ref.ServiceIdentifier
	if svc, err := h.Store.GetService(r.Context(), wsID, ref.ServiceID); err == nil && svc.Name != "" {
		service = svc.Name
	}
	view := ScopeView{Name: name, Description: ref.Description}
	for j := range groups {
		if groups[j].Service == service {
			groups[j].Scopes = append(groups[j].Scopes, view)
			return groups
		}
	}
	return append(groups, ScopeGroup{Service: service, Scopes: []ScopeView{view}})
}

func clientView(c storage.Client) ClientView {
	name := c.Name
	if name == "" {
		name = c.ID
	}
	logo := ""
	if strings.HasPrefix(c.LogoURI, "https://") {
		logo = c.LogoURI
	}
	return ClientView{Name: name, LogoURI: logo}
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

// errorPlain answers before the workspace page is set up.
func (h *Handler) errorPlain(w http.ResponseWriter, r *http.Request, status int, code, desc string) {
	ws, _ := endpoint.WorkspaceFromContext(r.Context())
	issuer := endpoint.IssuerFromContext(r.Context())
	pg := &page{ws: ws, issuer: issuer, p: webui.Page{
		Localizer: webui.ChooseLanguage(nil, r), Brand: webui.BrandOf(ws), Issuer: issuer, AssetBase: h.BaseURL,
	}}
	h.errorPage(w, pg, status, code, desc)
}

// tooMany answers an entry over budget: 429 with Retry-After (V2).
func (h *Handler) tooMany(w http.ResponseWriter, r *http.Request, pg *page, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(wait.Seconds())))))
	if h.Logger != nil {
		h.Logger.WarnContext(r.Context(), "device code entry throttled", "workspace", pg.ws.ID,
			"user_id", pg.signed.User.ID, "request_id", endpoint.RequestID(r))
	}
	h.renderEntry(w, r, pg, http.StatusTooManyRequests, "", "too_many_attempts")
}

// unavailable answers a storage failure: 503 with Retry-After, logged once.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, pg *page, err error) {
	e := endpoint.ErrUnavailable(err)
	endpoint.LogFailure(r.Context(), h.Logger, "device page failed", e, slog.String("workspace", pg.ws.ID))
	w.Header().Set("Retry-After", strconv.Itoa(oauth2.DefaultRetryAfterSeconds))
	h.errorPage(w, pg, e.HTTPStatus(), string(e.Code), e.Description)
}

func seeOther(w http.ResponseWriter, target string) {
	webui.SetPageHeaders(w)
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusSeeOther)
}
