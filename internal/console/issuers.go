package console

import (
	"net/http"
	"net/url"
	"time"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// Trusted issuers: external token issuers whose JWTs
// are accepted as JWT bearer assertions, mapped to a service user or to
// a user named by a claim (the CMiC seed's "tenant||username").

type issuersData struct {
	Issuers []storage.TrustedIssuer
}

func (h *Handler) issuers(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	page, err := h.Service.ListTrustedIssuers(r.Context(), c.ws, storage.ListOptions{Limit: storage.MaxPageSize})
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.render(w, r, http.StatusOK, "issuers", h.newView(r, c, "Trusted issuers", "issuers", issuersData{Issuers: page.Items}))
}

type issuerData struct {
	I   storage.TrustedIssuer
	New bool
	// Allowed is the issuer's allowed client IDs; Clients the workspace's
	// clients to choose them from, and Unknown the allowed IDs that name
	// no client (still shown, so saving keeps or drops them knowingly).
	Allowed      []string
	Clients      []storage.Client
	Unknown      []string
	MaxLifetime  int64
	ServiceUsers []storage.User
	Formats      []string
}

func (h *Handler) issuerView(r *http.Request, c *reqCtx, ti storage.TrustedIssuer, isNew bool, allowed []string) (*view, error) {
	users, err := h.Service.ListUsers(r.Context(), c.ws, storage.ListOptions{Limit: storage.MaxPageSize})
	if err != nil {
		return nil, err
	}
	clients, err := h.Service.ListClients(r.Context(), c.ws, storage.ListOptions{Limit: storage.MaxPageSize})
	if err != nil {
		return nil, err
	}
	d := issuerData{I: ti, New: isNew, Allowed: allowed, Clients: clients.Items, MaxLifetime: int64(ti.MaxAssertionLifetime / time.Second), Formats: service.ClaimFormats}
	known := map[string]bool{}
	for _, cl := range clients.Items {
		known[cl.ID] = true
	}
	for _, id := range allowed {
		if !known[id] {
			d.Unknown = append(d.Unknown, id)
		}
	}
	for _, u := range users.Items {
		if u.ServiceUser {
			d.ServiceUsers = append(d.ServiceUsers, u)
		}
	}
	title := "New trusted issuer"
	if !isNew {
		title = "Trusted issuer " + ti.Name
	}
	return h.newView(r, c, title, "issuers", d), nil
}

func (h *Handler) issuerForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	ti := storage.TrustedIssuer{Enabled: true, ClaimFormat: storage.ClaimFormatPlain}
	isNew := r.PathValue("iid") == ""
	if !isNew {
		var err error
		if ti, err = h.Service.GetTrustedIssuer(r.Context(), c.ws, r.PathValue("iid")); err != nil {
			h.fail(w, r, c, err)
			return
		}
	}
	v, err := h.issuerView(r, c, ti, isNew, ti.AllowedClients)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.render(w, r, http.StatusOK, "issuer", v)
}

// saveIssuer creates or replaces a trusted issuer from the form.
func (h *Handler) saveIssuer(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	iid := r.PathValue("iid")
	var verr fieldErrs
	life, _ := verr.seconds(f, "max_assertion_lifetime", "max_assertion_lifetime")
	enabled := f.checked("enabled")
	ti := storage.TrustedIssuer{
		ID: iid, Name: f.get("name"), Issuer: f.get("issuer"), JWKSURI: f.get("jwks_uri"), JWKS: []byte(f.get("jwks")),
		Audience: f.get("audience"), AllowedClients: allowedClients(f), MaxAssertionLifetime: life,
		Enabled: enabled, ServiceUserID: f.get("service_user_id"), Claim: f.get("claim"), ClaimFormat: f.get("claim_format"),
	}
	saved, err := orRun(&verr, func() (storage.TrustedIssuer, error) {
		if iid == "" {
			return h.Service.CreateTrustedIssuer(r.Context(), c.ws, service.TrustedIssuerInput{
				ID: f.get("id"), Name: ti.Name, Issuer: ti.Issuer, JWKSURI: ti.JWKSURI, JWKS: ti.JWKS, Audience: ti.Audience,
				AllowedClients: ti.AllowedClients, MaxAssertionLifetime: life, Enabled: &enabled,
				ServiceUserID: ti.ServiceUserID, Claim: ti.Claim, ClaimFormat: ti.ClaimFormat,
			})
		}
		return h.Service.UpdateTrustedIssuer(r.Context(), c.ws, iid, service.TrustedIssuerPatch{
			Name: &ti.Name, Issuer: &ti.Issuer, JWKSURI: &ti.JWKSURI, JWKS: &ti.JWKS, Audience: &ti.Audience,
			AllowedClients: &ti.AllowedClients, MaxAssertionLifetime: &life, Enabled: &enabled,
			ServiceUserID: &ti.ServiceUserID, Claim: &ti.Claim, ClaimFormat: &ti.ClaimFormat,
		})
	})
	if err != nil {
		if iid == "" {
			ti.ID = f.get("id")
		}
		v, verr2 := h.issuerView(r, c, ti, iid == "", allowedClients(f))
		if verr2 != nil {
			h.fail(w, r, c, verr2)
			return
		}
		if status, ok := formErrors(v, err); ok {
			h.render(w, r, status, "issuer", v)
			return
		}
		h.fail(w, r, c, err)
		return
	}
	if iid == "" {
		redirect(w, r, h.wsURL(c.ws, "/trusted-issuers/"+url.PathEscape(saved.ID)))
		return
	}
	v, err := h.issuerView(r, c, saved, false, saved.AllowedClients)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	v.Notice = "Saved."
	h.render(w, r, http.StatusOK, "issuer", v)
}

func (h *Handler) deleteIssuer(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if r.PostFormValue("confirm") != "on" {
		h.renderError(w, r, c, http.StatusBadRequest, "confirm: tick the box to confirm the deletion")
		return
	}
	iid := r.PathValue("iid")
	ti, err := h.Service.GetTrustedIssuer(r.Context(), c.ws, iid)
	if err == nil {
		err = h.Service.DeleteTrustedIssuer(r.Context(), c.ws, iid)
	}
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, deletedURL(h.wsURL(c.ws, "/trusted-issuers"), "trusted issuer", ti.Name, iid))
}

// allowedClients reads the ticked clients (one value each; a value with
// commas or lines, as older forms sent, is split).
func allowedClients(f form) []string {
	var out []string
	for _, v := range f.list("allowed_clients") {
		for _, id := range splitLines(v) {
			if !contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}
