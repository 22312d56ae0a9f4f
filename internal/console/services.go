package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

func (h *Handler) services(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	page, err := h.Service.ListServices(r.Context(), c.ws, storage.ListOptions{Limit: storage.MaxPageSize, Query: r.URL.Query().Get("q")})
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.render(w, r, http.StatusOK, "services", h.newView(r, c, "Services", "services", page.Items))
}

type serviceData struct {
	Service storage.Service
	New     bool
	Scopes  string // one "name description" per line
	// AccessPolicies are the policies of kind access the service may use.
	AccessPolicies []storage.Policy
	// Claims edits the service's claim mappings (a stored service only).
	Claims *claimsForm
	// DetailTypes edits its RFC 9396 types (a stored service only,
	// detailtypes.go).
	DetailTypes *detailTypesForm
}

// serviceForm shows a service (or an empty one for /services/new).
func (h *Handler) serviceForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if sid := r.PathValue("sid"); sid != "" {
		h.renderServicePage(w, r, c, sid, http.StatusOK, "", nil, nil)
		return
	}
	h.render(w, r, http.StatusOK, "service", h.newView(r, c, "Service", "services", serviceData{New: true}))
}

// renderServicePage shows a stored service; claims are the mapping rows
// as typed (nil: the stored ones), and a refusal of them (err) is shown
// next to its row.
func (h *Handler) renderServicePage(w http.ResponseWriter, r *http.Request, c *reqCtx, sid string, status int, notice string, err error, claims []claimRow) {
	svc, lerr := h.Service.GetService(r.Context(), c.ws, sid)
	if lerr != nil {
		h.fail(w, r, c, lerr)
		return
	}
	d := serviceData{Service: svc, Scopes: scopesText(svc.Scopes)}
	if d.AccessPolicies, lerr = h.listPolicies(r, c.ws, storage.PolicyKindAccess); lerr != nil {
		h.fail(w, r, c, lerr)
		return
	}
	v := h.newView(r, c, "Service", "services", &d)
	v.Notice = notice
	if r.Method == http.MethodPost {
		v.URL = h.serviceURL(c.ws, sid) // the page's own address
	}
	if claims == nil {
		claims = claimRowsOf(svc.ClaimMappings)
	}
	d.Claims = newClaimsForm(v, h.serviceURL(c.ws, sid)+"/claims", "service", claims)
	d.DetailTypes = h.detailTypesFormOf(v, sid, svc, c.detailTypes)
	if err != nil {
		if !claimsError(d.Claims, err) {
			h.fail(w, r, c, err)
			return
		}
		v.Error = "Nothing was saved: fix the problems marked in the claims below."
	}
	h.render(w, r, status, "service", v)
}

func scopesText(scopes []storage.Scope) string {
	var b strings.Builder
	for _, s := range scopes {
		b.WriteString(s.Name)
		if s.Description != "" {
			b.WriteString(" " + s.Description)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// parseScopes reads one scope per line: the name, then optionally a space
// and its description.
func parseScopes(text string) []storage.Scope {
	out := []storage.Scope{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, desc, _ := strings.Cut(line, " ")
		out = append(out, storage.Scope{Name: name, Description: strings.TrimSpace(desc)})
	}
	return out
}

func (h *Handler) saveService(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	sid := r.PathValue("sid")
	scopes := parseScopes(f.r.PostForm.Get("scopes"))
	var svc storage.Service
	var err error
	if sid == "" {
		svc, err = h.Service.CreateService(r.Context(), c.ws, service.ServiceInput{
			ID: f.get("id"), Name: f.get("name"), Description: f.get("description"), Identifier: f.get("identifier"), Scopes: scopes,
		})
	} else {
		svc, err = h.Service.UpdateService(r.Context(), c.ws, sid, service.ServicePatch{
			Name: f.str("name"), Description: f.str("description"), Identifier: f.str("identifier"), Scopes: &scopes,
		})
	}
	if err != nil {
		d := serviceData{New: sid == "", Scopes: f.r.PostForm.Get("scopes"), Service: storage.Service{
			ID: orString(sid, f.get("id")), Name: f.get("name"), Description: f.get("description"), Identifier: f.get("identifier"),
		}}
		v := h.newView(r, c, "Service", "services", d)
		if status, ok := formErrors(v, err); ok {
			h.render(w, r, status, "service", v)
			return
		}
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, Prefix+"/w/"+url.PathEscape(c.ws)+"/services/"+url.PathEscape(svc.ID))
}

func orString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (h *Handler) deleteService(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if r.PostFormValue("confirm") != "on" {
		h.renderError(w, r, c, http.StatusBadRequest, "confirm: tick the box to confirm the deletion")
		return
	}
	sid := r.PathValue("sid")
	svc, err := h.Service.GetService(r.Context(), c.ws, sid)
	if err == nil {
		err = h.Service.DeleteService(r.Context(), c.ws, sid)
	}
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, deletedURL(Prefix+"/w/"+url.PathEscape(c.ws)+"/services", "service", svc.Name, sid))
}
