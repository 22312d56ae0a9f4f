package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// The what-if tool asks the token endpoint's own code what it would do
// (service.WhatIf): it changes nothing, so it is a GET form a workspace
// viewer may use too, and its answer can be bookmarked.

// whatIfGrantTypes are the grant types the tool plays ("" picks
// authorization_code with a user, client_credentials without).
var whatIfGrantTypes = []string{oauth2.GrantAuthorizationCode, oauth2.GrantRefreshToken, oauth2.GrantJWTBearer,
	oauth2.GrantClientCredentials}

// whatIfForm is the question as typed.
type whatIfForm struct {
	ClientID  string
	UserID    string
	GrantType string
	Scopes    string
	Resources string
	RemoteIP  string
}

type whatIfData struct {
	Form    whatIfForm
	Clients []storage.Client // the chooser; nil on a client's tab
	// Users suggest user IDs (the first page; any ID may be typed).
	Users      []storage.User
	GrantTypes []string
	Result     *grants.WhatIfResult
	Policies   []whatIfPolicy
	// AccessToken and IDToken are the claims as indented JSON.
	AccessToken string
	IDToken     string
	Errs        map[string]*fieldMessages
}

// runWhatIf reads the question from the query and, when it was asked
// (run=1), answers it. clientID fixes the client (a client's tab).
func (h *Handler) runWhatIf(r *http.Request, c *reqCtx, clientID string, clients []storage.Client) (*whatIfData, error) {
	q := r.URL.Query()
	f := whatIfForm{ClientID: strings.TrimSpace(q.Get("client_id")), UserID: strings.TrimSpace(q.Get("user_id")),
		GrantType: strings.TrimSpace(q.Get("grant_type")), Scopes: strings.TrimSpace(q.Get("scopes")),
		Resources: strings.TrimSpace(q.Get("resources")), RemoteIP: strings.TrimSpace(q.Get("remote_ip"))}
	if clientID != "" {
		f.ClientID = clientID
	}
	users, err := h.Service.ListUsers(r.Context(), c.ws, storage.ListOptions{Limit: storage.MaxPageSize})
	if err != nil {
		return nil, err
	}
	d := &whatIfData{Form: f, Clients: clients, Users: users.Items, GrantTypes: whatIfGrantTypes}
	if q.Get("run") == "" {
		return d, nil
	}
	res, err := h.Service.WhatIf(r.Context(), c.ws, service.WhatIfInput{ClientID: f.ClientID, UserID: f.UserID,
		GrantType: f.GrantType, Scopes: strings.Fields(f.Scopes), Resources: strings.Fields(f.Resources), RemoteIP: f.RemoteIP})
	var ve *service.ValidationError
	switch {
	case errors.As(err, &ve):
		d.Errs = groupFieldErrors(ve.Errors, nil)
		return d, nil
	case errors.Is(err, service.ErrNotFound):
		d.Errs = map[string]*fieldMessages{"client_id": {ID: "client_id-error", Messages: []string{service.PublicMessage(err)}}}
		return d, nil
	case err != nil:
		return nil, err
	}
	d.Result, d.Policies = &res, whatIfPolicies(res)
	d.AccessToken, d.IDToken = indentJSON(res.AccessToken), indentJSON(res.IDToken)
	return d, nil
}

func indentJSON(m map[string]any) string {
	if m == nil {
		return ""
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}

// clientPoliciesData is the Policies tab of a client: its user and
// machine token policies (only policies of the right kind are offered)
// and the what-if tool for it.
type clientPoliciesData struct {
	*clientData
	UserPolicies    []storage.Policy
	MachinePolicies []storage.Policy
	// DefaultUserPolicy applies when the client attaches none.
	DefaultUserPolicy string
	WhatIf            *whatIfData
	// Claims edits the client's claim mappings.
	Claims *claimsForm
}

func (h *Handler) clientPolicies(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	h.renderClientPolicies(w, r, c, http.StatusOK, "", nil, nil)
}

// renderClientPolicies shows the tab; claims are the mapping rows as
// typed (nil: the stored ones), and a refusal of them (err) is shown next
// to its row.
func (h *Handler) renderClientPolicies(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, notice string, err error, claims []claimRow) {
	cd, lerr := h.clientData(r, c, "policies")
	if lerr != nil {
		h.fail(w, r, c, lerr)
		return
	}
	d := &clientPoliciesData{clientData: cd, DefaultUserPolicy: cd.Workspace.Settings.DefaultUserPolicyID}
	all, lerr := h.listPolicies(r, c.ws, "")
	if lerr != nil {
		h.fail(w, r, c, lerr)
		return
	}
	for _, p := range all {
		switch p.Kind {
		case storage.PolicyKindUser:
			d.UserPolicies = append(d.UserPolicies, p)
		case storage.PolicyKindMachine:
			d.MachinePolicies = append(d.MachinePolicies, p)
		}
	}
	if d.WhatIf, lerr = h.runWhatIf(r, c, cd.Client.ID, nil); lerr != nil {
		h.fail(w, r, c, lerr)
		return
	}
	v := h.newView(r, c, cd.Client.Name, "clients", d)
	v.Notice = notice
	if r.Method == http.MethodPost {
		v.URL = h.clientURL(c.ws, cd.Client.ID, "policies") // the tab's own address
	}
	rows := claims
	if rows == nil {
		rows = claimRowsOf(cd.Client.ClaimMappings)
	}
	d.Claims = newClaimsForm(v, h.clientURL(c.ws, cd.Client.ID, "claims"), "client", rows)
	if err != nil && claims != nil && claimsError(d.Claims, err) {
		v.Error = "Nothing was saved: fix the problems marked in the claims below."
	} else if err != nil {
		var ok bool
		if status, ok = formErrors(v, err); !ok {
			h.fail(w, r, c, err)
			return
		}
	}
	h.render(w, r, status, "client_policies", v)
}

// saveClientPolicies attaches the chosen policies ("" for none).
func (h *Handler) saveClientPolicies(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	_, err := h.Service.SetClientPolicies(r.Context(), c.ws, r.PathValue("id"), service.ClientPolicies{
		UserPolicyID: f.get("user_policy_id"), MachinePolicyID: f.get("machine_policy_id")})
	if err != nil {
		h.renderClientPolicies(w, r, c, http.StatusOK, "", err, nil)
		return
	}
	h.renderClientPolicies(w, r, c, http.StatusOK, "Saved.", nil, nil)
}

// saveAccessPolicy sets a service's access policy ("" for none).
func (h *Handler) saveAccessPolicy(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	sid := r.PathValue("sid")
	if _, err := h.Service.SetServiceAccessPolicy(r.Context(), c.ws, sid, formOf(r).get("access_policy_id")); err != nil {
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, Prefix+"/w/"+url.PathEscape(c.ws)+"/services/"+url.PathEscape(sid))
}

// whatIfPolicy is one evaluated policy of an answer, each rule next to
// its result.
type whatIfPolicy struct {
	ID, Name, Kind string
	Version        int
	Allow          bool
	Message        string
	Rules          []whatIfRule
	// Template and Params are set on the JWT bearer pre-authorization,
	// which is no saved policy but the client's settings as a template.
	Template string
	Params   map[string]string
}

type whatIfRule struct {
	N                          int // 1-based, as people count
	Condition, Outcome, Result string
	Message, Error             string
}

func whatIfPolicies(res grants.WhatIfResult) []whatIfPolicy {
	out := make([]whatIfPolicy, len(res.Policies))
	for i, p := range res.Policies {
		wp := whatIfPolicy{ID: p.Policy.ID, Name: p.Policy.Name, Kind: p.Kind, Version: p.Policy.Version,
			Allow: p.Allow, Message: p.Message, Template: p.Template, Params: p.Params}
		for j, rr := range p.Rules {
			row := whatIfRule{N: j + 1, Result: strings.ReplaceAll(rr.Result, "_", " "), Error: rr.Error}
			if j < len(p.Policy.Rules) {
				pr := p.Policy.Rules[j]
				row.Condition, row.Outcome, row.Message = pr.Condition, pr.Outcome, pr.Message
			}
			wp.Rules = append(wp.Rules, row)
		}
		out[i] = wp
	}
	return out
}
