package console

import (
	"net/http"
	"net/url"
	"sort"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

type clientsData struct {
	Clients []storage.Client
	Query   string
	Next    string
	After   string
}

// clients lists the workspace's clients with search and keyset paging.
func (h *Handler) clients(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	q := r.URL.Query()
	opts := storage.ListOptions{Query: q.Get("q"), After: q.Get("after"), Limit: 25}
	page, err := h.Service.ListClients(r.Context(), c.ws, opts)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.render(w, r, http.StatusOK, "clients", h.newView(r, c, "Clients", "clients", clientsData{
		Clients: page.Items, Query: opts.Query, Next: page.Next, After: opts.After,
	}))
}

// appType is one "application type" choice of New client.
type appType struct {
	ID, Label, Help string
	input           func(in *service.ClientInput)
}

// appTypes give sensible defaults per kind of application (RFC 8252 for
// native apps, RFC 9700 §2.1.1 and the browser-based apps BCP for SPAs:
// public clients with the authorization code grant and PKCE).
var appTypes = []appType{
	{"web", "Web server app", "A server-side application that keeps a secret.", func(in *service.ClientInput) {
		in.Type, in.GrantTypes = oauth2.ClientConfidential, []string{oauth2.GrantAuthorizationCode}
		in.TokenEndpointAuthMethod = oauth2.AuthClientSecretBasic
	}},
	{"spa", "Single-page app", "JavaScript in the browser: a public client without a secret.", func(in *service.ClientInput) {
		in.Type, in.GrantTypes = oauth2.ClientPublic, []string{oauth2.GrantAuthorizationCode}
		in.TokenEndpointAuthMethod = oauth2.AuthNone
	}},
	{"native", "Native / mobile app", "Installed on a device: a public client without a secret.", func(in *service.ClientInput) {
		in.Type, in.GrantTypes = oauth2.ClientPublic, []string{oauth2.GrantAuthorizationCode}
		in.TokenEndpointAuthMethod = oauth2.AuthNone
	}},
	{"service", "Service (machine-to-machine)", "A backend calling APIs as itself (client credentials).", func(in *service.ClientInput) {
		in.Type, in.GrantTypes = oauth2.ClientConfidential, []string{oauth2.GrantClientCredentials}
		in.TokenEndpointAuthMethod = oauth2.AuthClientSecretBasic
	}},
}

type newClientData struct {
	Types []appType
	Form  map[string]string
}

func (h *Handler) newClientForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	h.render(w, r, http.StatusOK, "client_new", h.newView(r, c, "New client", "clients",
		newClientData{Types: appTypes, Form: map[string]string{"type": "service"}}))
}

func (h *Handler) createClient(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	// The client ID may be chosen (as the CLI's --client-id can); empty:
	// generated.
	in := service.ClientInput{ID: f.get("client_id"), Name: f.get("name"), Description: f.get("description"), ContactEmail: f.get("contact_email")}
	if uri := f.get("redirect_uri"); uri != "" {
		in.RedirectURIs = []string{uri}
	}
	var verr fieldErrs
	found := false
	for _, t := range appTypes {
		if t.ID == f.get("type") {
			t.input(&in)
			in.ApplicationType = t.ID
			found = true
		}
	}
	if !found {
		verr.add("application_type", "enum", "choose one of the application types")
	}
	cl, err := orRun(&verr, func() (service.ClientWithSecret, error) { return h.Service.CreateClient(r.Context(), c.ws, in) })
	if err != nil {
		v := h.newView(r, c, "New client", "clients", newClientData{Types: appTypes, Form: map[string]string{
			"name": in.Name, "description": in.Description, "contact_email": in.ContactEmail, "client_id": f.get("client_id"),
			"type": f.get("type"), "redirect_uri": f.get("redirect_uri"),
		}})
		if status, ok := formErrors(v, err); ok {
			h.render(w, r, status, "client_new", v)
			return
		}
		h.fail(w, r, c, err)
		return
	}
	// The new secret is shown here once (later views need the e-mailed
	// code); the page replaces its address with the overview's, so a
	// reload neither repeats the creation nor shows the secret again.
	d, err := h.clientDataOf(r, c, cl.ID, "overview")
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	v := h.newView(r, c, d.Client.Name, "clients", d)
	v.URL = h.clientURL(c.ws, cl.ID, "overview")
	v.Notice = "Client “" + cl.Name + "” created with client ID " + cl.ID + "."
	if cl.Secret != "" {
		d.Secret = cl.Secret
		v.Notice += " Copy its secret now: it is shown only this once."
	}
	h.render(w, r, http.StatusOK, "client", v)
}

func (h *Handler) clientURL(ws, id, tab string) string {
	return Prefix + "/w/" + url.PathEscape(ws) + "/clients/" + url.PathEscape(id) + "/" + tab
}

// tabs of the client page, in order.
var clientTabs = []struct{ ID, Label string }{
	{"overview", "Overview"}, {"oauth", "OAuth"}, {"protocols", "Protocols"}, {"scopes", "Scopes"},
	{"endpoints", "Endpoints"}, {"metadata", "Metadata"}, {"credentials", "Credentials"},
	{"policies", "Policies"},
}

type clientData struct {
	Client    storage.Client
	Tab       string
	Tabs      any
	Workspace storage.Workspace
	// OAuth tab.
	GrantTypes    []string
	ResponseTypes []string
	AuthMethods   []string
	// LimitedMethods: the workspace allows only AuthMethods (the field
	// links to the settings page).
	LimitedMethods bool
	PKCE           bool
	// AppTypes and AppType feed the application type select.
	AppTypes []appType
	AppType  string
	// Scopes tab.
	Services []storage.Service
	// Endpoints tab.
	Endpoints []endpoint
	// OAuth tab: certificates and JWT bearer settings.
	JWT *jwtData
	// OAuth tab: authorization code and OpenID Connect settings.
	AuthFlow *authFlowView
	// Protocols tab: DPoP, mTLS, signed requests, token exchange, logout
	// channels and CIBA (protocols.go).
	Protocols *protocolsView
	// Errs are a refused save's validation errors by form field, shown
	// next to the field.
	Errs map[string]*fieldMessages
	// Metadata tab.
	Metadata []kv
	// Credentials tab.
	HasSecret    bool
	Secret       string // shown once, after reveal or rotation
	CodeSentTo   string
	MailDelivers bool
}

type kv struct{ Key, Value string }

type endpoint struct{ Label, URL string }

func (h *Handler) clientTab(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	tab := r.PathValue("tab")
	if tab == "" {
		tab = "overview"
	}
	d, err := h.clientData(r, c, tab)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.render(w, r, http.StatusOK, "client", h.newView(r, c, d.Client.Name, "clients", d))
}

// clientData loads what the tab shows of the client the path names.
func (h *Handler) clientData(r *http.Request, c *reqCtx, tab string) (*clientData, error) {
	return h.clientDataOf(r, c, r.PathValue("id"), tab)
}

// clientDataOf loads what the tab shows of client id.
func (h *Handler) clientDataOf(r *http.Request, c *reqCtx, id, tab string) (*clientData, error) {
	if !validTab(tab) {
		return nil, &service.Error{Kind: service.ErrNotFound, Message: "no such tab"}
	}
	ctx := r.Context()
	cl, err := h.Service.GetClient(ctx, c.ws, id)
	if err != nil {
		return nil, err
	}
	ws, err := h.Service.GetWorkspace(ctx, c.ws)
	if err != nil {
		return nil, err
	}
	d := &clientData{
		Client: cl, Tab: tab, Tabs: clientTabs, Workspace: ws, GrantTypes: service.ClientGrantTypes,
		ResponseTypes: service.ClientResponseTypes, AuthMethods: authMethods(ws), PKCE: cl.PKCERequired(),
		LimitedMethods: len(ws.Settings.AllowedAuthMethods) > 0, AppTypes: appTypes, AppType: service.EffectiveApplicationType(cl),
		HasSecret: len(cl.SecretCiphertext) > 0, MailDelivers: h.MailDelivers, Metadata: metadataRows(cl.Metadata),
	}
	switch tab {
	case "scopes":
		page, err := h.Service.ListServices(ctx, c.ws, storage.ListOptions{Limit: storage.MaxPageSize})
		if err != nil {
			return nil, err
		}
		d.Services = page.Items
	case "endpoints":
		d.Endpoints = h.endpoints(r, c.ws)
	case "oauth":
		if d.JWT, err = h.loadJWTData(r, c.ws, cl); err != nil {
			return nil, err
		}
		af := newAuthFlowView(ws, cl)
		d.AuthFlow = &af
	case "protocols":
		if d.Protocols, err = h.loadProtocols(r, ws, cl); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func validTab(tab string) bool {
	for _, t := range clientTabs {
		if t.ID == tab {
			return true
		}
	}
	return false
}

// authMethods are the methods a client of ws may pick (the workspace's
// allowed list, or every method when it sets none).
func authMethods(ws storage.Workspace) []string {
	if len(ws.Settings.AllowedAuthMethods) > 0 {
		return ws.Settings.AllowedAuthMethods
	}
	return oauth2.AllAuthMethods
}

func metadataRows(m map[string]string) []kv {
	rows := make([]kv, 0, len(m)+3)
	for k, v := range m {
		rows = append(rows, kv{k, v})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Key < rows[j].Key })
	return append(rows, kv{}, kv{}, kv{})
}

// saveClientTab applies the form of one tab through UpdateClient, the
// same call the admin API's PATCH makes.
func (h *Handler) saveClientTab(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	tab := r.PathValue("tab")
	f := formOf(r)
	var verr fieldErrs
	var p service.ClientPatch
	switch tab {
	case "overview":
		p = overviewPatch(f)
	case "oauth":
		p = oauthPatch(f, &verr)
	case "scopes":
		scopes := f.list("scopes")
		p.Scopes = &scopes
	case "metadata":
		p.Metadata = metadataPatch(f)
	default:
		h.renderError(w, r, c, http.StatusNotFound, "This tab has nothing to save.")
		return
	}
	id := r.PathValue("id")
	res, err := orRun(&verr, func() (service.ClientWithSecret, error) { return h.Service.UpdateClient(r.Context(), c.ws, id, p) })
	notice := "Saved."
	if res.Secret != "" {
		notice = "Saved. The client now has a secret: copy it now, it is shown only once."
	}
	h.clientTabResult(w, r, c, tab, err, notice, res.Secret)
}

func overviewPatch(f form) service.ClientPatch {
	p := service.ClientPatch{
		Name: f.str("name"), Description: f.str("description"), ContactEmail: f.str("contact_email"),
	}
	p.PolicyURI, p.TOSURI, p.ClientURI, p.LogoURI = f.str("policy_uri"), f.str("tos_uri"), f.str("client_uri"), f.str("logo_uri")
	return p
}

func oauthPatch(f form, verr *fieldErrs) service.ClientPatch {
	grants, responses, redirects := f.list("grant_types"), f.list("response_types"), splitLines(f.get("redirect_uris"))
	trusted, pkce := f.checked("trusted"), f.checked("require_pkce")
	jwks := []byte(f.get("jwks"))
	p := service.ClientPatch{
		GrantTypes: &grants, ResponseTypes: &responses, RedirectURIs: &redirects,
		TokenEndpointAuthMethod: f.str("token_endpoint_auth_method"), JWKS: &jwks, JWKSURI: f.str("jwks_uri"),
		ApplicationType: f.str("application_type"),
	}
	// A client stored before application types has none: the select
	// shows the inferred one, and leaving it unchanged keeps the client
	// without a stored type (its rules follow its settings).
	if at := p.ApplicationType; at != nil && f.get("application_type_stored") == "" && *at == f.get("application_type_shown") && *at != "" {
		p.ApplicationType = nil
	}
	p.Trusted, p.RequirePKCE = &trusted, &pkce
	ttl, ok := verr.seconds(f, "access_token_ttl", "access_token_ttl")
	if !ok && verr.errs == nil {
		ttl = 0 // empty: the workspace default
	}
	p.AccessTokenTTL = &ttl
	p.AccessTokenFormat = f.str("access_token_format")
	if f.str("id_token_ttl") != nil {
		idTTL, _ := verr.seconds(f, "id_token_ttl", "id_token_ttl") // empty: the access token lifetime
		p.IDTokenTTL = &idTTL
	}
	return p
}

func metadataPatch(f form) *map[string]string {
	keys, values := f.r.PostForm["meta_key"], f.r.PostForm["meta_value"]
	m := map[string]string{}
	for i, k := range keys {
		if k == "" || i >= len(values) {
			continue
		}
		m[k] = values[i]
	}
	return &m
}

// clientAction runs the buttons of the client page.
func (h *Handler) clientAction(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	ctx, id := r.Context(), r.PathValue("id")
	switch r.PathValue("action") {
	case "enable", "disable":
		if _, err := h.Service.SetClientEnabled(ctx, c.ws, id, r.PathValue("action") == "enable"); err != nil {
			h.fail(w, r, c, err)
			return
		}
		redirect(w, r, h.clientURL(c.ws, id, "overview"))
	case "delete":
		if r.PostFormValue("confirm") != "on" {
			h.renderError(w, r, c, http.StatusBadRequest, "confirm: tick the box to confirm the deletion")
			return
		}
		cl, err := h.Service.GetClient(ctx, c.ws, id)
		if err == nil {
			err = h.Service.DeleteClient(ctx, c.ws, id)
		}
		if err != nil {
			h.fail(w, r, c, err)
			return
		}
		redirect(w, r, deletedURL(h.wsURL(c.ws, "/clients"), "client", cl.Name, id))
	case "secret-code", "secret-reveal", "secret-rotate":
		h.secretAction(w, r, c, r.PathValue("action"))
	default:
		h.renderError(w, r, c, http.StatusNotFound, "Unknown action.")
	}
}

// secretAction implements the Credentials tab: e-mail a code, reveal the
// secret with it, or rotate the secret. Each is audited by the service.
func (h *Handler) secretAction(w http.ResponseWriter, r *http.Request, c *reqCtx, action string) {
	ctx, id := r.Context(), r.PathValue("id")
	var secret, sentTo, notice string
	var err error
	switch action {
	case "secret-code":
		sentTo, err = h.Service.RequestSecretCode(ctx, c.ws, id, c.user.ID)
		notice = "We sent a 6-digit code to " + sentTo + ". Enter it below within 10 minutes."
	case "secret-reveal":
		secret, err = h.Service.RevealClientSecret(ctx, c.ws, id, c.user.ID, r.PostFormValue("code"))
		notice = "This is the client secret. Copy it now: leaving the page hides it again."
	case "secret-rotate":
		if r.PostFormValue("confirm") != "on" {
			h.renderError(w, r, c, http.StatusBadRequest, "confirm: tick the box to confirm the rotation")
			return
		}
		var res service.ClientWithSecret
		res, err = h.Service.RotateClientSecret(ctx, c.ws, id)
		secret = res.Secret
		notice = "The secret was rotated; the old one no longer works. Copy the new one now: it is shown only once."
	}
	d, derr := h.clientData(r, c, "credentials")
	if derr != nil {
		h.fail(w, r, c, derr)
		return
	}
	v := h.newView(r, c, d.Client.Name, "clients", d)
	v.URL = h.clientURL(c.ws, d.Client.ID, "credentials")
	if err != nil {
		status, ok := formErrors(v, err)
		if !ok {
			h.fail(w, r, c, err)
			return
		}
		if action == "secret-reveal" {
			d.CodeSentTo = d.Client.ContactEmail
		}
		h.render(w, r, status, "client", v)
		return
	}
	d.Secret, d.CodeSentTo, v.Notice = secret, sentTo, notice
	h.render(w, r, http.StatusOK, "client", v)
}
