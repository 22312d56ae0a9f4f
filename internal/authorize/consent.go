package authorize

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/authzdetails"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// maxConsentForm caps the consent form body.
const maxConsentForm = 8 << 10

// ConsentData is the consent page's data (docs/authorization-flow.md).
type ConsentData struct {
	RequestID string
	Client    ClientView
	Groups    []ScopeGroup
	UserName  string
	// Details are the requested authorization details in words (RFC 9396
	// §2, authzdetails.go).
	Details []authzdetails.View
}

// ClientView is the client as people see it; links are https only
// (SECURITY.md K10).
type ClientView struct {
	Name, LogoURI, PolicyURI, TOSURI, ClientURI string
}

// ScopeGroup is the requested scopes of one service.
type ScopeGroup struct {
	Service string
	Scopes  []ScopeView
}

// ScopeView is one requested scope.
type ScopeView struct{ Name, Description string }

// loadPending resolves request_id into the pending request and its client,
// checking that this browser started it (SECURITY.md E15, K2). ok is false
// when a page has been written.
func (h *Handler) loadPending(w http.ResponseWriter, r *http.Request, f *flow, id string) (*validated, bool) {
	ctx := r.Context()
	if id == "" || len(id) > 128 {
		h.expired(w, f)
		return nil, false
	}
	req, err := h.Store.GetAuthRequest(ctx, f.ws.ID, id, h.now())
	if errors.Is(err, storage.ErrNotFound) {
		h.expired(w, f)
		return nil, false
	}
	if err != nil {
		h.errorPage(w, f, oauth2.AsError(unavailable(err)))
		return nil, false
	}
	if !h.Sessions.BoundTo(r, req.BrowserHash) {
		f.page.Title = f.page.T("error_title")
		f.page.Data = webui.ErrorData{Code: "invalid_request", Description: f.page.T("wrong_browser")}
		webui.Render(w, h.Logger, http.StatusBadRequest, "error", f.page)
		return nil, false
	}
	client, err := h.Store.GetClient(ctx, f.ws.ID, req.ClientID)
	if err != nil || !client.Enabled {
		h.expired(w, f)
		return nil, false
	}
	f.page.Localizer = webui.ChooseLanguage(req.UILocales, r)
	return &validated{client: client, req: req}, true
}

func (h *Handler) serveConsentPage(w http.ResponseWriter, r *http.Request) {
	f, ok := h.begin(w, r, nil)
	if !ok {
		return
	}
	v, ok := h.loadPending(w, r, f, r.URL.Query().Get("request_id"))
	if !ok {
		return
	}
	h.proceed(w, r, f, v, true)
}

func (h *Handler) serveConsentPost(w http.ResponseWriter, r *http.Request) {
	f, ok := h.begin(w, r, nil)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxConsentForm)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, f, oauth2.NewError(oauth2.ErrInvalidRequest, "malformed form"))
		return
	}
	form := r.PostForm
	if !h.Sessions.CheckCSRF(r, form.Get("csrf_token"), consentPurpose(f.ws.ID)) {
		h.forbidden(w, f)
		return
	}
	v, ok := h.loadPending(w, r, f, form.Get("request_id"))
	if !ok {
		return
	}
	signed, in, err := h.Sessions.Current(r.Context(), r, f.ws.ID)
	if err != nil {
		h.fail(w, r, f, v, unavailable(err))
		return
	}
	if !in {
		redirectSeeOther(w, f.issuer+"/login?request_id="+v.req.ID)
		return
	}
	switch form.Get("action") {
	case "allow":
		h.allow(w, r, f, v, signed)
	case "deny":
		h.abandon(w, r, f, v, oauth2.NewError(oauth2.ErrAccessDenied, "the user denied the request"))
	default:
		h.errorPage(w, f, oauth2.NewError(oauth2.ErrInvalidRequest, "unknown action"))
	}
}

// allow remembers the consent (the union with what was granted before)
// and completes the request.
func (h *Handler) allow(w http.ResponseWriter, r *http.Request, f *flow, v *validated, s webui.Signed) {
	ctx := r.Context()
	now := h.now()
	c := storage.Consent{WorkspaceID: f.ws.ID, UserID: s.User.ID, ClientID: v.client.ID, CreatedAt: now}
	prev, err := h.Store.GetConsent(ctx, f.ws.ID, s.User.ID, v.client.ID)
	switch {
	case err == nil:
		c.Scopes, c.CreatedAt = prev.Scopes, prev.CreatedAt
	case !errors.Is(err, storage.ErrNotFound):
		h.fail(w, r, f, v, unavailable(err))
		return
	}
	for _, sc := range v.req.Scopes {
		if !slices.Contains(c.Scopes, sc) {
			c.Scopes = append(c.Scopes, sc)
		}
	}
	c.UpdatedAt = now
	if err := h.Store.PutConsent(ctx, c); err != nil {
		h.fail(w, r, f, v, unavailable(err))
		return
	}
	h.complete(w, r, f, v, s)
}

func (h *Handler) forbidden(w http.ResponseWriter, f *flow) {
	f.page.Title = f.page.T("error_title")
	f.page.Data = webui.ErrorData{Code: "access_denied", Description: f.page.T("forbidden")}
	webui.Render(w, h.Logger, http.StatusForbidden, "error", f.page)
}

func consentPurpose(wsID string) string { return "consent\x00" + wsID }

// renderConsent shows the consent page (OIDC Core §3.1.2.4).
func (h *Handler) renderConsent(w http.ResponseWriter, r *http.Request, f *flow, v *validated, s webui.Signed) {
	groups, err := h.scopeGroups(r, f, v.req.Scopes)
	if err != nil {
		h.fail(w, r, f, v, err)
		return
	}
	details, err := h.detailViews(r.Context(), f.ws.ID, v)
	if err != nil {
		h.fail(w, r, f, v, err)
		return
	}
	name := s.User.DisplayName
	if name == "" {
		name = s.User.Username
	}
	f.page.Title = f.page.T("consent_title")
	f.page.CSRF = h.Sessions.FormCSRF(w, r, consentPurpose(f.ws.ID))
	f.page.Data = ConsentData{RequestID: v.req.ID, Client: clientView(v.client), Groups: groups, UserName: name, Details: details}
	webui.Render(w, h.Logger, http.StatusOK, "consent", f.page)
}

// scopeGroups groups the requested scopes by service: the OpenID scopes
// first under "Your identity", then each service's with its descriptions.
func (h *Handler) scopeGroups(r *http.Request, f *flow, scopes []string) ([]ScopeGroup, error) {
	refs, err := h.Store.ListScopes(r.Context(), f.ws.ID)
	if err != nil {
		return nil, unavailable(err)
	}
	identity := ScopeGroup{Service: f.page.T("service_identity")}
	var services []ScopeGroup
	for _, name := range scopes {
		if slices.Contains(oidc.StandardScopes, name) {
			identity.Scopes = append(identity.Scopes, ScopeView{Name: name, Description: f.page.T("scope_" + name)})
			continue
		}
		services = addServiceScope(r, h.Store, f.ws.ID, services, refs, name)
	}
	if len(identity.Scopes) > 0 {
		services = append([]ScopeGroup{identity}, services...)
	}
	return services, nil
}

func addServiceScope(r *http.Request, store RequestStore, wsID string, groups []ScopeGroup, refs []storage.ScopeRef, name string) []ScopeGroup {
	for _, ref := range refs {
		if ref.Name != name {
			continue
		}
		service := ref.ServiceIdentifier
		if svc, err := store.GetService(r.Context(), wsID, ref.ServiceID); err == nil && svc.Name != "" {
			service = svc.Name
		}
		view := ScopeView{Name: name, Description: ref.Description}
		for i := range groups {
			if groups[i].Service == service {
				groups[i].Scopes = append(groups[i].Scopes, view)
				return groups
			}
		}
		return append(groups, ScopeGroup{Service: service, Scopes: []ScopeView{view}})
	}
	return groups
}

func clientView(c storage.Client) ClientView {
	name := c.Name
	if name == "" {
		name = c.ID
	}
	return ClientView{Name: name, LogoURI: httpsOnly(c.LogoURI), PolicyURI: httpsOnly(c.PolicyURI),
		TOSURI: httpsOnly(c.TOSURI), ClientURI: httpsOnly(c.ClientURI)}
}

// httpsOnly drops anything but an https URL (SECURITY.md K10): the
// service layer validates these already; this is defence in depth.
func httpsOnly(u string) string {
	if strings.HasPrefix(u, "https://") {
		return u
	}
	return ""
}
